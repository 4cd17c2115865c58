"""The application: CLI, settings, database and channels."""
