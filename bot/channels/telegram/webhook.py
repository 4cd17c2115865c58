"""POST /webhook/telegram: checks the secret, journals the update, and only then answers
200. Anything that stops the journal write gets a 503, so Telegram delivers again."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.telegram.adapter import arrival
from bot.channels.telegram.polling import Accept

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_handler(
    secret: str, accept: Accept
) -> Callable[[web.Request], Awaitable[web.Response]]:
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="unauthorized")
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="the body is not JSON")
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="not a Telegram update")
        try:
            await accept([arrival(update)])
        except Exception as error:
            log.warning("telegram webhook %s not journalled: %s", update_id, type(error).__name__)
            return web.Response(status=503, text="try again")
        return web.json_response({})

    return handle
