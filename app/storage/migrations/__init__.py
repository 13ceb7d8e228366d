"""Alembic environment of the transcript store (driven by `app.storage.migrate`, no alembic.ini)."""
