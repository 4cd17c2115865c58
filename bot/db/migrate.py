"""Applies Alembic migrations on an already-open async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py uses this connection, so migrations run inside our event loop and engine.
    config.attributes["connection"] = connection
    return config


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message says where, without the
    password, and why."""


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    try:
        connection = await engine.connect()
    except (OSError, DBAPIError) as error:
        where = engine.url.render_as_string(hide_password=True)
        reason = getattr(error, "orig", None) or error
        raise DatabaseUnavailable(
            f"Cannot open the database at {where}: {type(reason).__name__}: {reason}"
        ) from error
    try:
        async with connection.begin():
            await connection.run_sync(run)
    finally:
        await connection.close()


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
