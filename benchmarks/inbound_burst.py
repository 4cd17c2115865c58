"""A burst of updates into the running Telegram bot, in polling and in webhook mode, on the
fake Bot API over loopback and a real SQLite (or PostgreSQL) database.

    .venv/bin/python -m benchmarks.inbound_burst --updates 300 --users 100

Every user sends the same few commands at once. Prints, per mode: how many updates were
answered and lost, the time to the last reply, the p50 and p99 time from an update's
arrival to its reply, and the most sendMessage calls in any one second (Telegram allows
30; the bot aims at a steady 25).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from bot.app import open_app
from bot.channels.telegram.service import TelegramService
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import WEBHOOK_SECRET, free_port

COMMANDS = ("/tips", "/mode user", "/tanya_balik", "/jadwal", "/bantuan")
FIRST_CHAT = 50_000
DEADLINE_SECONDS = 300


def _settings(fake: FakeTelegram, database_url: str, webhook: bool) -> Settings:
    extra = (
        {
            "telegram_webhook_url": "https://coach.example.test/webhook/telegram",
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
        if webhook
        else {}
    )
    return Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=fake.base_url,
        host="127.0.0.1",
        port=free_port(),
        **extra,  # type: ignore[arg-type]
    )


async def _watch_replies(fake: FakeTelegram, expected: int) -> list[float]:
    """When each reply arrived, in the order the fake received them."""
    seen: list[float] = []
    started = time.monotonic()
    while len(seen) < expected and time.monotonic() - started < DEADLINE_SECONDS:
        for _ in range(len(fake.sent()) - len(seen)):
            seen.append(time.monotonic())
        await asyncio.sleep(0.005)
    return seen


def _busiest_second(stamps: list[float]) -> int:
    busiest, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


async def _burst(mode: str, updates: int, users: int, database_url: str) -> None:
    webhook = mode == "webhook"
    async with FakeTelegram() as fake:
        settings = _settings(fake, database_url, webhook)
        async with open_app(settings) as app:
            service = TelegramService(app, polling_timeout=1)
            stop = asyncio.Event()
            running = asyncio.create_task(
                service.run_webhook(stop) if webhook else service.run_polling(handle_signals=False)
            )
            await asyncio.sleep(1)  # started, webhook registered
            chats = [FIRST_CHAT + i % users for i in range(updates)]
            batch = [
                fake.make_message_update(chat, COMMANDS[i // users % len(COMMANDS)])
                for i, chat in enumerate(chats)
            ]
            watcher = asyncio.create_task(_watch_replies(fake, updates))
            sent_at = time.monotonic()
            if webhook:
                url = f"http://127.0.0.1:{settings.port}/webhook/telegram"
                headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                async with aiohttp.ClientSession() as http:

                    async def post(update: dict[str, object]) -> int:
                        async with http.post(url, json=update, headers=headers) as response:
                            return response.status

                    statuses = await asyncio.gather(*(post(update) for update in batch))
                refused = sum(status != 200 for status in statuses)
            else:
                for update in batch:
                    fake.push_update(update)
                refused = 0
            arrivals = await watcher
            if webhook:
                stop.set()
            else:
                await service.stop_polling()
            await asyncio.wait_for(running, 60)
        by_chat: dict[int, int] = {}
        for message in fake.sent():
            by_chat[message["chat_id"]] = by_chat.get(message["chat_id"], 0) + 1
        answered = sum(min(by_chat.get(chat, 0), chats.count(chat)) for chat in set(chats))
        latencies = sorted(stamp - sent_at for stamp in arrivals)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    last = latencies[-1] if latencies else float("nan")
    print(
        f"{mode:8} {updates} updates from {users} users: answered {answered}, "
        f"lost {updates - answered}, refused {refused}; last reply {last:5.1f} s, "
        f"p50 {p50:5.1f} s, p99 {p99:5.1f} s; busiest second {_busiest_second(arrivals)} sends"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--mode", choices=("polling", "webhook", "both"), default="both")
    args = parser.parse_args()
    modes = ("polling", "webhook") if args.mode == "both" else (args.mode,)
    with tempfile.TemporaryDirectory() as folder:
        for mode in modes:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / f'{mode}.db'}"
            asyncio.run(_burst(mode, args.updates, args.users, url))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
