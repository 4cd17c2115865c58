"""Runs the WhatsApp channel: the webhook routes on the shared web app, the inbound worker
and a scheduler for WhatsApp users. Alone it serves its own web app; next to Telegram it
rides on Telegram's (`TelegramService(companions=[...])`)."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from aiohttp import web

from bot.app import App
from bot.channels.whatsapp.adapter import CHANNEL, WhatsAppChannel
from bot.channels.whatsapp.sender import WhatsAppSender
from bot.channels.whatsapp.webhook import handshake_handler, webhook_handler
from bot.db.send_budget import shared_budget
from bot.inbound.worker import InboundWorker
from bot.web import WHATSAPP_WEBHOOK_PATH, Probe, build_web_app
from scheduler.engine import SchedulerEngine

log = logging.getLogger(__name__)


class WhatsAppService:
    def __init__(self, app: App) -> None:
        settings = app.settings
        if (
            settings.whatsapp_access_token is None
            or settings.whatsapp_phone_number_id is None
            or settings.whatsapp_app_secret is None
            or settings.whatsapp_verify_token is None
        ):
            raise ValueError(
                "WhatsApp needs WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID, "
                "WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN"
            )
        self._app = app
        self._app_secret = settings.whatsapp_app_secret.get_secret_value()
        self._verify_token = settings.whatsapp_verify_token.get_secret_value()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.sender = WhatsAppSender(
            self._http,
            api_url=settings.whatsapp_api_url,
            version=settings.whatsapp_api_version,
            phone_number_id=settings.whatsapp_phone_number_id,
            access_token=settings.whatsapp_access_token.get_secret_value(),
            on_unreachable=lambda user: self.worker.mark_blocked(user),
            messages_per_second=settings.whatsapp_messages_per_second,
            pair_interval_seconds=settings.whatsapp_pair_interval_seconds,
            shared=shared_budget(app.engine, f"whatsapp:{settings.whatsapp_phone_number_id}"),
        )
        self.channel = WhatsAppChannel(
            self.sender,
            app.sessions,
            app.coach.library.messages,
            app.clock,
            template=settings.whatsapp_template_reengage,
            template_language=settings.whatsapp_template_language,
        )
        self.worker = InboundWorker(
            channel=CHANNEL,
            bot_id=settings.whatsapp_phone_number_id,
            sessions=app.sessions,
            coach=app.coach,
            clock=app.clock,
            decode=self.channel.decode,
            replies=self.channel,
        )
        self.scheduler = SchedulerEngine(
            app.sessions, app.coach.library, {CHANNEL: self.channel}, app.clock
        )
        self.stopped = asyncio.Event()

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_get(WHATSAPP_WEBHOOK_PATH, handshake_handler(self._verify_token))
        web_app.router.add_post(
            WHATSAPP_WEBHOOK_PATH, webhook_handler(self._app_secret, self.worker.accept)
        )

    def probes(self) -> list[Probe]:
        async def journal() -> str | None:
            return await self.worker.stalled(self._app.settings.inbound_stall_seconds)

        return [journal]

    async def start(self) -> None:
        await self.worker.start()
        self.scheduler.start()

    async def finish(self) -> None:
        await self.worker.drain(self._app.settings.shutdown_grace_seconds)
        await self.scheduler.stop()
        await self._http.close()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """WhatsApp alone: serves the webhook and /healthz until SIGTERM/SIGINT (or
        `stop`)."""
        settings = self._app.settings
        stop = stop or asyncio.Event()
        web_app = build_web_app(self._app.engine, self.probes())
        self.add_routes(web_app)
        await self.start()
        # No access log, as on Telegram's side (see TelegramService._serve).
        runner = web.AppRunner(
            web_app, shutdown_timeout=settings.shutdown_grace_seconds, access_log=None
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await runner.setup()
            await web.TCPSite(runner, settings.host, settings.port).start()
            log.info("whatsapp webhook on %s:%s", settings.host, settings.port)
            await stop.wait()
            await runner.cleanup()  # no new requests; those being journalled finish
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.finish()
            await runner.cleanup()
            self.stopped.set()
