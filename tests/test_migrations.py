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
