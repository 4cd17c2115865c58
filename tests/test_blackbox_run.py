"""The real `interview-coach run` process under libfaketime (time runs ten times faster),
talking to the fake Telegram Bot API: the daily tip arrives once, at 07.00 WIB."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.app import open_app
from bot.settings import Settings
from handlers.types import Inbound
from tests.fakes.telegram_api import FakeTelegram

CHAT = 4242


def fake_start() -> str:
    """06.58 WIB tomorrow, two minutes (12 s of real time) before the user's daily time.
    Relative to the real clock: the user is registered now, so a fixed date would rot with
    the calendar."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return f"@{tomorrow.isoformat()} 23:58:00 x10"


def libfaketime_path() -> str:
    """libfaketime from the `libfaketime` wheel, preloaded directly (what `faketime -f`
    does) so that SIGTERM reaches the bot itself and not a wrapper process."""
    try:
        import libfaketime
    except ImportError as error:
        raise AssertionError(
            "the libfaketime package is missing: `make setup` installs it "
            "(pinned in constraints.txt)"
        ) from error
    path = Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1"
    assert path.is_file(), f"the libfaketime package has no {path.name} for this platform"
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_daily_tip_arrives_once_in_a_sped_up_real_process(database_url: str) -> None:
    async with FakeTelegram() as fake:
        settings = Settings(_env_file=None, database_url=database_url)
        async with open_app(settings) as app:
            for command in ("/pengingat 07.00", "/zona WIB"):
                await app.coach.handle(Inbound("telegram", str(CHAT), text=command))

        env = {
            **os.environ,
            "TZ": "UTC",
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "LD_PRELOAD": libfaketime_path(),
            "FAKETIME": fake_start(),
            "FAKETIME_DONT_RESET": "1",
            # This build hangs timed waits on a faked monotonic clock (queue.get(timeout)
            # in aiosqlite's thread): only the wall clock runs fast. APScheduler's
            # triggers read the wall clock, so the ticks still see fast time.
            "DONT_FAKE_MONOTONIC": "1",
        }
        env.pop("TELEGRAM_WEBHOOK_URL", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            (tip,) = await fake.wait_for_sent(1, CHAT, timeout=60)
            assert "Latihan harian" in tip["text"]
            # Five more fake minutes of ticking: still one daily message.
            await asyncio.sleep(30)
            assert len(fake.sent(CHAT)) == 1
            commands = {c["command"] for c in fake.commands}
            assert {"interview", "jadwal", "latihan"} <= commands
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 60)
        log = output.decode(errors="replace")
        assert process.returncode == 0, log
        assert "Traceback" not in log, log
        assert fake.token not in log
    async with open_app(settings) as app, app.sessions() as session:
        rows = (await session.execute(text("SELECT kind, status FROM deliveries"))).all()
    assert ("tip", "sent") in rows
    assert sum(kind == "tip" and status == "sent" for kind, status in rows) == 1
