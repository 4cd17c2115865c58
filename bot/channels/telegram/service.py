"""Runs the Telegram bot: long polling, or a webhook on the shared web app. Either way an
update is journalled before Telegram is told it arrived, and the inbound worker handles
it from the journal."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiohttp import web

from bot.app import App
from bot.channels.telegram.adapter import ALLOWED_UPDATES, CHANNEL, TelegramChannel
from bot.channels.telegram.polling import TelegramPoller
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.webhook import webhook_handler
from bot.db.send_budget import shared_budget
from bot.inbound.worker import InboundWorker
from bot.web import TELEGRAM_WEBHOOK_PATH, Probe, build_web_app
from scheduler.engine import SchedulerEngine

log = logging.getLogger(__name__)

POLLING_TIMEOUT_SECONDS = 30


class Companion(Protocol):
    """Another channel served from the same process and web app (WhatsApp)."""

    def add_routes(self, web_app: web.Application) -> None: ...
    def probes(self) -> list[Probe]: ...
    async def start(self) -> None: ...
    async def finish(self) -> None: ...


class TelegramService:
    def __init__(
        self,
        app: App,
        polling_timeout: int = POLLING_TIMEOUT_SECONDS,
        companions: Sequence[Companion] = (),
    ) -> None:
        settings = app.settings
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        token = settings.telegram_bot_token.get_secret_value()
        self._app = app
        self._companions = list(companions)
        self.bot = Bot(
            token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
        )
        self.sender = TelegramSender(
            self.bot,
            on_blocked=lambda chat_id: self.worker.mark_blocked(chat_id),
            messages_per_second=settings.telegram_messages_per_second,
            paid_broadcast_per_second=(
                settings.telegram_paid_broadcast_per_second
                if settings.telegram_paid_broadcast
                else None
            ),
            shared=lambda budget: shared_budget(app.engine, budget),
        )
        self.channel = TelegramChannel(self.bot, self.sender, app.coach.library.messages)
        self.worker = InboundWorker(
            channel=CHANNEL,
            # The bot's id (the token's first part) keeps two bots' update ids apart.
            bot_id=token.split(":", 1)[0],
            sessions=app.sessions,
            coach=app.coach,
            clock=app.clock,
            decode=self.channel.decode,
            replies=self.channel,
        )
        self.poller = TelegramPoller(self.bot, self.worker.accept, ALLOWED_UPDATES, polling_timeout)
        self.scheduler = SchedulerEngine(
            app.sessions, app.coach.library, {CHANNEL: self.channel}, app.clock
        )
        self._stop = asyncio.Event()
        self.stopped = asyncio.Event()

    def _probes(self, polling: bool) -> list[Probe]:
        settings = self._app.settings

        async def journal() -> str | None:
            return await self.worker.stalled(settings.inbound_stall_seconds)

        async def poller() -> str | None:
            stalled = self.poller.stalled_for()
            if stalled > settings.inbound_stall_seconds:
                return f"telegram polling has not got through for {stalled:.0f} s"
            return None

        own = [journal, poller] if polling else [journal]
        return own + [probe for companion in self._companions for probe in companion.probes()]

    def _web_app(self, polling: bool) -> web.Application:
        web_app = build_web_app(self._app.engine, self._probes(polling))
        for companion in self._companions:
            companion.add_routes(web_app)
        return web_app

    async def _start(self) -> None:
        try:
            await self.sender.call("", lambda: self.bot.set_my_commands(self.channel.menu()))
        except Exception as error:
            log.warning("could not set the telegram command menu: %s", type(error).__name__)
        await self.worker.start()
        self.scheduler.start()
        for companion in self._companions:
            await companion.start()

    async def _finish(self) -> None:
        """Everything fetched is handled and sent, or left in the journal and the outbox
        for the next start; then the scheduler stops."""
        await self.worker.drain(self._app.settings.shutdown_grace_seconds)
        await self.scheduler.stop()
        for companion in self._companions:
            await companion.finish()

    async def _serve(self, web_app: web.Application) -> web.AppRunner:
        # No access log: the proxy in front keeps one, and a webhook's query string can
        # carry a verify token; per request, it was a fifth of the server's own CPU.
        runner = web.AppRunner(
            web_app, shutdown_timeout=self._app.settings.shutdown_grace_seconds, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self._app.settings.host, self._app.settings.port)
        await site.start()
        return runner

    @contextmanager
    def _signals(self, enabled: bool) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if enabled else ()
        for sig in signals:
            loop.add_signal_handler(sig, self._stop.set)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    async def run_polling(self, handle_signals: bool = True) -> None:
        """Long polling, with /healthz served beside it. Returns after SIGTERM/SIGINT (or
        `stop_polling()`), once what was fetched is handled."""
        runner = await self._serve(self._web_app(polling=True))
        started = False
        try:
            with self._signals(handle_signals):
                try:
                    await self.sender.call("", lambda: self.bot.delete_webhook())
                except Exception as error:
                    # Polling then gets 409 and backs off, and /healthz says so.
                    log.warning("could not remove the telegram webhook: %s", type(error).__name__)
                await self._start()
                started = True
                await self.poller.run(self._stop)
        finally:
            if started:
                await self._finish()
            await runner.cleanup()
            await self.bot.session.close()
            self.stopped.set()

    async def run_webhook(self, stop: asyncio.Event | None = None) -> None:
        """Serves POST /webhook/telegram and /healthz until SIGTERM/SIGINT (or `stop`)."""
        settings = self._app.settings
        if settings.telegram_webhook_url is None or settings.telegram_webhook_secret is None:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
        secret = settings.telegram_webhook_secret.get_secret_value()
        if stop is not None:
            self._stop = stop
        web_app = self._web_app(polling=False)
        web_app.router.add_post(TELEGRAM_WEBHOOK_PATH, webhook_handler(secret, self.worker.accept))
        # The last run's unfinished updates first, so that a chat's new ones queue after.
        await self._start()
        runner: web.AppRunner | None = None
        try:
            with self._signals(True):
                runner = await self._serve(web_app)
                await self.sender.call(
                    "",
                    lambda: self.bot.set_webhook(
                        settings.telegram_webhook_url or "",
                        secret_token=secret,
                        allowed_updates=ALLOWED_UPDATES,
                    ),
                )
                log.info("telegram webhook mode on %s:%s", settings.host, settings.port)
                await self._stop.wait()
                # No new requests; the ones being journalled finish first.
                await runner.cleanup()
        finally:
            await self._finish()
            if runner is not None:
                await runner.cleanup()
            await self.bot.session.close()
            self.stopped.set()

    async def stop_polling(self) -> None:
        self._stop.set()
