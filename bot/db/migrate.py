"""Applies Alembic migrations on an already-open async engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision) = "([^"]+)"$', re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration, read from the files: at a restart the database is usually
    at it already, and importing Alembic to find that out costs a quarter second of
    every start. None when the files do not name exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for field, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if field == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _at_head(connection: AsyncConnection) -> bool:
    head = head_revision()
    if head is None:
        return False
    try:
        current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        current = None  # a new database: no table yet
    await connection.rollback()
    return bool(current == head)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

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
        from alembic import command

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
        if revision == "head" and await _at_head(connection):
            return
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
