"""The Telegram bot as it runs, on the fake Bot API: fixtures for polling and webhook mode
(`polling`, `webhook`), and `Running`, which talks to it as a user would."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import App, open_app
from bot.channels.telegram.service import TelegramService
from bot.db.models import User
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram

CHAT = 7001
WEBHOOK_SECRET = "s3cret-webhook-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def telegram_settings(fake: FakeTelegram, database_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=fake.base_url,
        host="127.0.0.1",
        port=free_port(),
        **extra,
    )


@dataclass
class Running:
    app: App
    service: TelegramService
    fake: FakeTelegram

    async def user(self, chat_id: int = CHAT) -> User | None:
        async with self.app.sessions() as session:
            return await session.scalar(
                select(User).where(User.channel == "telegram", User.external_id == str(chat_id))
            )

    async def say(self, message: str, count: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent(CHAT))
        self.fake.push_message(CHAT, message)
        return (await self.fake.wait_for_sent(before + count, CHAT))[before:]

    async def until_user(self, condition: Callable[[User], bool], what: str) -> None:
        for _ in range(200):
            user = await self.user()
            if user is not None and condition(user):
                return
            await asyncio.sleep(0.025)
        raise AssertionError(what)

    async def tap(self, data: str, message_id: int, count: int = 1) -> None:
        before = len(self.fake.sent(CHAT)) + len(self.fake.edits(CHAT))
        self.fake.push_callback(CHAT, data, message_id=message_id)
        for _ in range(200):
            if len(self.fake.sent(CHAT)) + len(self.fake.edits(CHAT)) >= before + count:
                return
            await asyncio.sleep(0.025)
        raise AssertionError("no reply to the button tap")


@pytest.fixture
async def polling(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Running]:
    async with open_app(telegram_settings(telegram, database_url)) as app:
        service = TelegramService(app, polling_timeout=1)
        task = asyncio.create_task(service.run_polling(handle_signals=False))
        try:
            yield Running(app, service, telegram)
        finally:
            await service.stop_polling()
            await asyncio.wait_for(task, 15)


@asynccontextmanager
async def running_webhook(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Running]:
    """The bot in webhook mode, its webhook registered with the fake."""
    port = free_port()
    settings = telegram_settings(
        telegram,
        database_url,
        # Telegram only takes HTTPS; TLS ends at a proxy in front of our plain HTTP port.
        telegram_webhook_url="https://coach.example.test/webhook/telegram",
        telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
    )
    settings.port = port
    async with open_app(settings) as app:
        service = TelegramService(app)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run_webhook(stop))
        for _ in range(200):
            if telegram.webhook:
                break
            await asyncio.sleep(0.025)
        try:
            yield Running(app, service, telegram)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


@pytest.fixture
async def webhook(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Running]:
    async with running_webhook(telegram, database_url) as running:
        yield running


def local_webhook_url(running: Running) -> str:
    return f"http://127.0.0.1:{running.app.settings.port}/webhook/telegram"
