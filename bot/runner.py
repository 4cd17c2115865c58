"""`interview-coach run`: starts the configured channels."""

from __future__ import annotations

import logging

from bot import redact
from bot.app import open_app
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_channels(settings: Settings) -> int:
    redact.install(settings.secret_values())
    if not settings.telegram_enabled:
        log.error("WhatsApp is not built yet; set TELEGRAM_BOT_TOKEN to run the bot")
        return 2
    if settings.telegram_webhook_url and settings.telegram_webhook_secret is None:
        log.error("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set")
        return 2
    from bot.channels.telegram.service import TelegramService

    async with open_app(settings) as app:
        service = TelegramService(app)
        if settings.telegram_webhook_url:
            await service.run_webhook()
        else:
            await service.run_polling()
    return 0
