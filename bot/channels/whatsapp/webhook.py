"""GET and POST /webhook/whatsapp. The GET is Meta's subscription handshake. A POST is
checked against `X-Hub-Signature-256` over the exact raw body before anything is parsed,
then every message and status in it is journalled, and only then does Meta get its 200:
anything that stops the journal write is a 503, and Meta delivers again."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.channels.whatsapp.adapter import arrivals
from bot.db.inbound import Arrival

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
Accept = Callable[[Sequence[Arrival]], Awaitable[int]]
Handler = Callable[[web.Request], Awaitable[web.Response]]


def handshake_handler(verify_token: str) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            token.encode(), verify_token.encode()
        ):
            return web.Response(status=403, text="forbidden")
        return web.Response(text=query.get("hub.challenge", ""))

    return handle


def signature_ok(raw: bytes, header: str, app_secret: str) -> bool:
    if not header.startswith("sha256="):
        return False  # sha1 alone is not enough
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").encode(), expected.encode())


def webhook_handler(app_secret: str, accept: Accept) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER, ""), app_secret):
            return web.Response(status=401, text="bad signature")
        try:
            payload = json.loads(raw)
        except ValueError:
            return web.Response(status=400, text="the body is not JSON")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="not a webhook payload")
        try:
            await accept(arrivals(payload))
        except Exception as error:
            log.warning("whatsapp webhook not journalled: %s", type(error).__name__)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    return handle
