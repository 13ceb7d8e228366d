"""Migration scripts. Alembic skips this file; it makes the folder ship as package data."""
