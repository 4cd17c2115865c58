"""The two databases every database test runs on: a SQLite file, and PostgreSQL.

PostgreSQL is a throwaway server from the `pgserver` wheel (PostgreSQL 16 binaries), started
once per test session, or the server at `TEST_POSTGRES_URL` when that is set. Each test gets
a database of its own, created empty and dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

TEST_POSTGRES_URL = "TEST_POSTGRES_URL"


@contextmanager
def postgres_server() -> Iterator[URL]:
    """The admin URL of a PostgreSQL server for the session, as a SQLAlchemy asyncpg URL."""
    configured = os.environ.get(TEST_POSTGRES_URL)
    if configured:
        yield make_url(configured).set(drivername="postgresql+asyncpg")
        return
    with tempfile.TemporaryDirectory(prefix="coach-pg-") as folder, warnings.catch_warnings():
        # pgserver keeps its lock files in /tmp when the desktop's runtime folder is unset
        # (containers, CI); that is what we want, and not worth a warning in every run.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            import pgserver
        except ImportError as error:
            raise RuntimeError(
                "PostgreSQL tests need the pgserver package (`make setup` installs it), or "
                f"{TEST_POSTGRES_URL} pointing at an existing server"
            ) from error
        server = pgserver.get_server(Path(folder), cleanup_mode="delete")
        try:
            uri = make_url(server.get_uri())
            yield uri.set(drivername="postgresql+asyncpg")
        finally:
            server.cleanup()


def _asyncpg_args(url: URL) -> dict[str, object]:
    host = url.query.get("host", url.host)
    return {
        "user": url.username,
        "password": url.password or None,
        "host": host,
        "port": url.port,
        "database": url.database,
    }


async def create_database(admin: URL) -> URL:
    name = f"coach_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(**_asyncpg_args(admin))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin.set(database=name)


async def drop_database(admin: URL, url: URL) -> None:
    connection = await asyncpg.connect(**_asyncpg_args(admin))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await connection.close()
