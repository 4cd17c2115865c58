"""One dispatcher in a process of its own, for the test of two dispatchers on one database.

    python -m tests.dispatch_worker DATABASE_URL TELEGRAM_API_URL NOW_ISO

It connects, prints "ready", waits for a line on stdin (so that both processes start
claiming at the same moment), then dispatches until nothing is left for it, and prints
how many messages it sent."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.channels.telegram.sender import TelegramSender
from bot.db.engine import create_engine, create_session_factory
from content.loader import load_library
from scheduler.dispatcher import Dispatcher

IDLE_PASSES = 5  # empty passes in a row before this dispatcher decides it is done


async def _never_blocked(_chat_id: str) -> None:
    raise AssertionError("no chat in this test blocks the bot")


async def main(database_url: str, api_url: str, now: datetime) -> None:
    engine = create_engine(database_url)
    bot = Bot("123456:TEST-token", session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    try:
        # Fast, but slow enough that neither process claims every batch before the
        # other has started: a pass streams until nothing is due.
        sender = TelegramSender(bot, on_blocked=_never_blocked, messages_per_second=1_000)
        dispatcher = Dispatcher(
            create_session_factory(engine), load_library(), {"telegram": sender}, lambda: now
        )
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        sent = idle = 0
        while idle < IDLE_PASSES:
            count = await dispatcher.run_once()
            sent += count
            idle = idle + 1 if count == 0 else 0
            if count == 0:
                await asyncio.sleep(0.05)
        print(f"sent {sent}", flush=True)
    finally:
        await bot.session.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])))
