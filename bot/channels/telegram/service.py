"""Runs the Telegram bot: long polling, or a webhook on the shared web app."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import App
from bot.channels.flood import FloodGuard
from bot.channels.inflight import InFlight
from bot.channels.telegram.adapter import TelegramChannel
from bot.channels.telegram.sender import TelegramSender
from bot.web import TELEGRAM_WEBHOOK_PATH, build_web_app
from scheduler.engine import SchedulerEngine

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 20.0
POLLING_TIMEOUT_SECONDS = 30


class TelegramService:
    def __init__(self, app: App, polling_timeout: int = POLLING_TIMEOUT_SECONDS) -> None:
        settings = app.settings
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self._app = app
        self._polling_timeout = polling_timeout
        self.bot = Bot(
            settings.telegram_bot_token.get_secret_value(),
            session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
        )
        self.inflight = InFlight()
        self.sender = TelegramSender(self.bot, on_blocked=self._mark_blocked)
        self.channel = TelegramChannel(
            app.coach, self.sender, app.sessions, FloodGuard(), self.inflight, app.clock
        )
        self.dispatcher = Dispatcher()
        self.dispatcher.update.outer_middleware(self.channel.skip_redelivered)
        self.dispatcher.include_router(self.channel.router())
        self.dispatcher.startup.register(self._on_startup)
        self.dispatcher.shutdown.register(self._on_shutdown)
        self.scheduler = SchedulerEngine(
            app.sessions, app.coach.library, {"telegram": self.sender}, app.clock
        )
        self.stopped = asyncio.Event()

    async def _mark_blocked(self, chat_id: str) -> None:
        await self.channel.set_blocked(chat_id, True)

    async def _on_startup(self) -> None:
        await self.bot.set_my_commands(self.channel.menu())
        self.scheduler.start()

    async def _on_shutdown(self) -> None:
        await self.scheduler.stop()
        if not await self.inflight.wait_idle(SHUTDOWN_GRACE_SECONDS):
            log.warning("%d update(s) still running at shutdown", self.inflight.count)

    def _allowed_updates(self) -> list[str]:
        return self.dispatcher.resolve_used_update_types()

    async def _start_site(self, web_app: web.Application) -> web.AppRunner:
        runner = web.AppRunner(web_app, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, self._app.settings.host, self._app.settings.port)
        await site.start()
        return runner

    async def run_polling(self, handle_signals: bool = True) -> None:
        """Long polling, with /healthz served beside it. Returns after SIGTERM/SIGINT (or
        `stop()`), once in-flight updates are done."""
        runner = await self._start_site(build_web_app(self._app.engine))
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.dispatcher.start_polling(
                self.bot,
                handle_signals=handle_signals,
                allowed_updates=self._allowed_updates(),
                polling_timeout=self._polling_timeout,
            )
        finally:
            await runner.cleanup()
            self.stopped.set()

    async def run_webhook(self, stop: asyncio.Event | None = None) -> None:
        """Serves POST /webhook/telegram and /healthz until SIGTERM/SIGINT (or `stop`)."""
        settings = self._app.settings
        if settings.telegram_webhook_url is None or settings.telegram_webhook_secret is None:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
        secret = settings.telegram_webhook_secret.get_secret_value()
        stop = stop or asyncio.Event()
        web_app = build_web_app(self._app.engine)
        # Handled inside the request, so Telegram redelivers when we fail and shutdown
        # waits for the request to finish.
        SimpleRequestHandler(
            self.dispatcher, self.bot, secret_token=secret, handle_in_background=False
        ).register(web_app, path=TELEGRAM_WEBHOOK_PATH)
        setup_application(web_app, self.dispatcher, bot=self.bot)
        runner = await self._start_site(web_app)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.bot.set_webhook(
                settings.telegram_webhook_url,
                secret_token=secret,
                allowed_updates=self._allowed_updates(),
            )
            log.info("telegram webhook mode on %s:%s", settings.host, settings.port)
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await runner.cleanup()
            await self.bot.session.close()
            self.stopped.set()

    async def stop_polling(self) -> None:
        await self.dispatcher.stop_polling()
