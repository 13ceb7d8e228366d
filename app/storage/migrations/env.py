"""Alembic environment: runs on the connection `app.storage.migrate` hands over.

No alembic.ini and no logging config here: the caller owns the engine (with our SQLite
pragmas) and the logging setup.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import app.storage.tables  # noqa: F401 - registers the tables on SQLModel.metadata

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise TypeError("run migrations through app.storage.migrate, which provides the connection")
    # render_as_batch: SQLite can only ALTER by copying the table; batch mode does that for us.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
