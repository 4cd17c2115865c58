"""`interview-coach run`: starts the configured channels."""

from __future__ import annotations

import gc
import logging

from bot import redact
from bot.app import open_app
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_channels(settings: Settings) -> int:
    redact.install(settings.secret_values())
    if settings.telegram_webhook_url and settings.telegram_webhook_secret is None:
        log.error("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set")
        return 2
    if settings.whatsapp_enabled and (
        settings.whatsapp_app_secret is None or settings.whatsapp_verify_token is None
    ):
        log.error("WhatsApp needs WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN as well")
        return 2
    from bot.channels.telegram.service import TelegramService
    from bot.channels.whatsapp.service import WhatsAppService

    async with open_app(settings) as app:
        # The content library and the imported modules are most of the heap and live as
        # long as the process: frozen, the garbage collector stops walking them in every
        # full collection, which under load took about 5 % of the CPU.
        gc.collect()
        gc.freeze()
        whatsapp = [WhatsAppService(app)] if settings.whatsapp_enabled else []
        if not settings.telegram_enabled:
            await whatsapp[0].run()
            return 0
        service = TelegramService(app, companions=whatsapp)
        if settings.telegram_webhook_url:
            await service.run_webhook()
        else:
            await service.run_polling()
    return 0
