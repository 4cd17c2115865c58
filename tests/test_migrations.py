from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator, TypeEngine

from bot.db import migrate
from bot.db.engine import create_engine
from bot.db.models import Base


async def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0008"
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        # Running it again on an up-to-date database changes nothing and does not fail.
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0008"
    finally:
        await engine.dispose()


async def test_a_new_sqlite_file_gets_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'coach.db'}")
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert journal == "wal"
        assert busy == 5000
    finally:
        await engine.dispose()


async def test_upgrading_a_database_in_use_keeps_its_deliveries(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0003")
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO users (id, channel, external_id, display_name, role, mode, "
                "timezone, daily_time, paused, blocked, created_at, last_active_at) VALUES "
                "(1, 'telegram', '7', 'Rina', 'umum', 'hr', 'Asia/Jakarta', '07:00:00', "
                "FALSE, FALSE, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
            )
            await connection.exec_driver_sql(
                "INSERT INTO deliveries (user_id, kind, dedupe_key, item_id, due_at, "
                "expires_at, status, attempts, last_error, created_at) VALUES (1, 'tip', "
                "'tip:1:2026-12-02', '', '2026-12-02 00:00:00', '2026-12-02 02:00:00', "
                "'pending', 0, '', '2026-12-01 00:00:00')"
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.exec_driver_sql(
                    "SELECT dedupe_key, status, payload FROM deliveries"
                )
            ).all()
        assert [tuple(row) for row in rows] == [("tip:1:2026-12-02", "pending", "")]
    finally:
        await engine.dispose()


def _shape(column_type: TypeEngine[object], nullable: bool | None) -> tuple[object, ...]:
    """What a migration must agree with the model on: Python type, length, nullability."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return (column_type.python_type, getattr(column_type, "length", None), bool(nullable))


async def test_migrated_columns_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {
                    table: {
                        col["name"]: _shape(col["type"], col["nullable"])
                        for col in inspect(c).get_columns(table)
                    }
                    for table in Base.metadata.tables
                }
            )
        for name, table in Base.metadata.tables.items():
            expected = {
                column.name: _shape(column.type, column.nullable) for column in table.columns
            }
            assert columns[name] == expected, name
    finally:
        await engine.dispose()


def db_upgrade(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_upgrade_command_reports_the_revision(database_url: str) -> None:
    result = db_upgrade(database_url)
    assert result.returncode == 0, result.stderr
    assert "revision 0008" in result.stdout
    if database_url.startswith("sqlite"):
        database = make_url(database_url).database
        assert database is not None and Path(database).is_file()


def test_a_url_without_the_async_driver_gets_it(database_url: str) -> None:
    # As a hosting provider hands it out: postgresql://… or sqlite:///…
    plain = database_url.replace("+asyncpg", "").replace("+aiosqlite", "")
    result = db_upgrade(plain)
    assert result.returncode == 0, result.stderr
    assert "revision 0008" in result.stdout


def test_an_unreachable_database_is_named_without_its_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = db_upgrade(f"postgresql+asyncpg://coach:s3cret-pw@127.0.0.1:{closed_port}/coach")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"Cannot open the database at postgresql+asyncpg://coach:***@127.0.0.1:{closed_port}"
        "/coach: ConnectionRefusedError"
    )
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    # A start on a database already at this head skips importing Alembic; a wrong head
    # would skip a migration.
    from alembic.script import ScriptDirectory

    assert (
        migrate.head_revision()
        == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    )
