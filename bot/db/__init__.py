"""Storage: models, engine, migrations and repositories."""
