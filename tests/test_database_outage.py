"""PostgreSQL stopped for ten seconds under webhook traffic, then started again, on a
server of the test's own: no update Telegram was told is delivered is lost, the ones sent
while it is down are refused so that Telegram sends them again, `/healthz` says what is
wrong, and the bot recovers without a restart."""

from __future__ import annotations

import asyncio
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from content.loader import load_library
from tests.databases import create_database
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import WEBHOOK_SECRET, local_webhook_url, running_webhook

OUTAGE_SECONDS = 10
FIRST_CHAT = 9100
CHATS = 6


@contextmanager
def own_postgres() -> Iterator[Any]:
    with tempfile.TemporaryDirectory(prefix="coach-pg-") as folder, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver  # here, where its warning about XDG_RUNTIME_DIR is silenced

        server = pgserver.get_server(Path(folder), cleanup_mode="delete")
        try:
            yield server
        finally:
            server.cleanup()


def _stop(server: Any) -> None:
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


async def _health(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def test_postgres_stopped_for_ten_seconds_loses_no_update() -> None:
    with own_postgres() as server:
        admin = make_url(server.get_uri()).set(drivername="postgresql+asyncpg")
        url = (await create_database(admin)).render_as_string(hide_password=False)
        fake = FakeTelegram()
        await fake.start()
        try:
            async with running_webhook(fake, url) as running, aiohttp.ClientSession() as http:
                hook = local_webhook_url(running)
                health = f"http://127.0.0.1:{running.app.settings.port}/healthz"
                chats = [FIRST_CHAT + i for i in range(CHATS)]
                for chat in chats:
                    update = fake.make_message_update(chat, "/bantuan")
                    assert await fake.post_update_to_webhook(hook, update, WEBHOOK_SECRET) == 200
                for chat in chats:
                    await fake.wait_for_sent(1, chat, timeout=20)

                await asyncio.to_thread(_stop, server)
                stopped = time.monotonic()
                # Each chat sends one message while the database is down. Telegram sends
                # an update again until it gets a 2xx, and forgets it after one.
                waiting = {chat: fake.make_message_update(chat, "/mode user") for chat in chats}
                acknowledged: set[int] = set()
                refusals = 0
                health_during: set[int] = set()
                while time.monotonic() - stopped < OUTAGE_SECONDS:
                    for chat, update in list(waiting.items()):
                        status = await fake.post_update_to_webhook(hook, update, WEBHOOK_SECRET)
                        if status < 300:
                            acknowledged.add(chat)
                            del waiting[chat]
                        else:
                            refusals += 1
                    code, body = await _health(http, health)
                    health_during.add(code)
                    await asyncio.sleep(0.5)
                assert health_during == {503}
                assert body["database"] == "unreachable", body
                assert refusals and waiting  # while it is down, updates are refused, not dropped

                await asyncio.to_thread(server.ensure_postgres_running)
                for _ in range(100):  # recovery, with no restart of the bot
                    if (await _health(http, health))[0] == 200:
                        break
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError("/healthz never recovered")
                for update in waiting.values():
                    status = await fake.post_update_to_webhook(hook, update, WEBHOOK_SECRET)
                    assert status == 200
                switched = load_library().messages.render("mode_switched_user", role="")
                for chat in chats:  # acknowledged or sent again, each is answered once
                    replies = await fake.wait_for_sent(2, chat, timeout=60)
                    assert replies[1]["text"].startswith(switched[:30]), replies[1]["text"]
                await asyncio.sleep(1)  # and nothing more arrives
                assert len(fake.sent()) == 2 * CHATS
        finally:
            await fake.stop()
