"""The real `interview-coach run` process under libfaketime (time runs ten times faster),
talking to the fake Telegram Bot API: the daily tip arrives once, at 07.00 WIB."""

from __future__ import annotations

import asyncio
import glob
import os
import signal
import socket
import sys
from pathlib import Path

from sqlalchemy import text

from bot.app import open_app
from bot.settings import Settings
from handlers.types import Inbound
from tests.fakes.telegram_api import FakeTelegram

CHAT = 4242
# 06.59 WIB on Wednesday 2 December 2026, one minute before the user's daily time.
FAKE_START = "@2026-12-01 23:59:00 x10"
# libfaketime preloaded directly (what `faketime -f` does), so that SIGTERM reaches the
# bot itself and not a wrapper process; the MT build because aiosqlite uses threads.
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))), "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_daily_tip_arrives_once_in_a_sped_up_real_process(tmp_path: Path) -> None:
    assert LIBFAKETIME, "libfaketime is missing: apt-get install faketime"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
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
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME": FAKE_START,
            "FAKETIME_DONT_RESET": "1",
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
