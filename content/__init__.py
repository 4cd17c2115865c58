"""Coaching content in Indonesian: YAML data, its schema, loader and linter."""
