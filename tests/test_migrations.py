from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from bot.db import migrate
from bot.db.engine import create_engine
from bot.db.models import Base


async def test_upgrade_from_empty_creates_every_table_with_wal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'coach.db'}")
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0004"
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert set(Base.metadata.tables) <= tables
        assert journal == "wal"
        assert busy == 5000
        # Running it again on an up-to-date database changes nothing and does not fail.
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == "0004"
    finally:
        await engine.dispose()


async def test_upgrading_a_database_in_use_keeps_its_deliveries(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    try:
        await migrate.upgrade(engine, "0003")
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO users (id, channel, external_id, display_name, role, mode, "
                "timezone, daily_time, paused, blocked, created_at, last_active_at) VALUES "
                "(1, 'telegram', '7', 'Rina', 'umum', 'hr', 'Asia/Jakarta', '07:00:00', 0, 0, "
                "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"
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


async def test_migrated_columns_match_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {
                    table: {col["name"] for col in inspect(c).get_columns(table)}
                    for table in Base.metadata.tables
                }
            )
        for name, table in Base.metadata.tables.items():
            assert columns[name] == {column.name for column in table.columns}, name
    finally:
        await engine.dispose()


def test_db_upgrade_command_reports_the_revision(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "revision 0004" in result.stdout
    assert (tmp_path / "cli.db").is_file()
