"""Every outgoing WhatsApp call goes through here: the Graph API's messages endpoint with
the access token, a steady limit per phone number, the pair limit per user for scheduled
messages, and Graph's error codes turned into what the caller can act on.

What a caller of `send` can get besides the new message's wamid:

- `WindowClosed` (131047): free text outside the 24-hour window; send a template.
- `ChatBlocked` (131026): the user can't be reached; `on_unreachable` has already run.
- `RetryLater` (130429 rate limit, 131056 pair limit): Graph gives no retry-after, so
  the pause is ours.
- `TemporaryFailure`: a 5xx, an answer that is not Graph's JSON, a network error, after
  a few quick retries; or a rejected token (190), logged loudly once, so that rows are
  kept until the operator fixes it.
- `TemplateRejected` (132000-132016): logged with the template's name; retrying the
  same call will not help.
- `SendRejected`: any other error; the call is wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot import metrics
from bot.channels.base import ChatBlocked, Refused, RetryLater, TemporaryFailure
from bot.channels.pacing import PRIORITY_NAMES, REPLY, SCHEDULED, Pacer, Reservations

log = logging.getLogger(__name__)

WINDOW_CLOSED = 131047
UNDELIVERABLE = 131026
RATE_LIMITED = 130429
PAIR_LIMITED = 131056
BAD_TOKEN = 190
TEMPLATE_ERRORS = range(132000, 132017)
RATE_LIMIT_PAUSE_SECONDS = 30.0
QUICK_RETRIES = 3
QUICK_BACKOFF_SECONDS = 0.5
MAX_TRACKED_USERS = 10_000

OnUnreachable = Callable[[str], Awaitable[None]]


class WindowClosed(Exception):
    """The user last wrote more than 24 hours ago: only a template may go out."""


class TemplateRejected(Refused):
    def __init__(self, code: int, template: str) -> None:
        super().__init__(f"template {template!r} rejected ({code})")
        self.code = code


class SendRejected(Refused):
    def __init__(self, code: int) -> None:
        super().__init__(f"Graph error {code}")
        self.code = code


def recipient(user: str) -> dict[str, str]:
    """A phone number (digits) goes in `to`; a business-scoped user id in `recipient`."""
    return {"to": user} if user.isdigit() else {"recipient": user}


class WhatsAppSender:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        api_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        on_unreachable: OnUnreachable,
        messages_per_second: float = 80,
        pair_interval_seconds: float = 6,
        shared: Reservations | None = None,
    ) -> None:
        self._http = http
        self._url = f"{api_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._on_unreachable = on_unreachable
        self.messages_per_second = messages_per_second
        self._global = Pacer(messages_per_second, shared)
        self._pair_interval = pair_interval_seconds
        self._last_to: OrderedDict[str, float] = OrderedDict()
        self._token_rejected = False

    async def send(
        self, user: str, message: dict[str, Any], *, live: bool, template: str = ""
    ) -> str:
        """Sends one message (the type-specific part: text, interactive or template)
        and returns its wamid. A live reply answers a user who just wrote and skips the
        pair limit's wait; a scheduled message keeps the interval."""
        if not live:
            await self._wait_for_pair(user)
        body = {"messaging_product": "whatsapp", **recipient(user), **message}
        answer = await self._post(body, user, template, REPLY if live else SCHEDULED)
        self._last_to[user] = time.monotonic()
        self._last_to.move_to_end(user)
        if len(self._last_to) > MAX_TRACKED_USERS:
            self._last_to.popitem(last=False)
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id", ""))
        return ""

    async def mark_read(self, wamid: str, typing: bool = True) -> None:
        """Blue ticks for the user's message, and "typing…" while the reply is made."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._post(body, "", "", REPLY)

    async def _wait_for_pair(self, user: str) -> None:
        last = self._last_to.get(user)
        if last is not None:
            wait = self._pair_interval - (time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)

    async def _post(
        self, body: dict[str, Any], user: str, template: str, priority: int
    ) -> dict[str, Any]:
        for attempt in range(QUICK_RETRIES + 1):
            waited = await self._global.acquire(priority)
            metrics.observe_limiter_wait("whatsapp", PRIORITY_NAMES[priority], waited)
            try:
                async with self._http.post(self._url, json=body, headers=self._headers) as response:
                    status, raw = response.status, await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = f"network error ({type(error).__name__})"
            else:
                answer = _json(raw)
                if 200 <= status < 300 and answer is not None:
                    self._token_rejected = False
                    return answer
                if status < 500 and answer is not None:
                    await self._raise_graph_error(answer, user, template)
                failure = f"HTTP {status}" + ("" if answer is not None else " without JSON")
            if attempt < QUICK_RETRIES:
                await asyncio.sleep(QUICK_BACKOFF_SECONDS * 2**attempt)
        raise TemporaryFailure(failure)

    async def _raise_graph_error(self, answer: dict[str, Any], user: str, template: str) -> None:
        error = answer.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        code = code if isinstance(code, int) else 0
        if code == WINDOW_CLOSED:
            raise WindowClosed()
        if code == UNDELIVERABLE:
            await self._on_unreachable(user)
            raise ChatBlocked(user)
        if code in (RATE_LIMITED, PAIR_LIMITED):
            metrics.count_rate_limited("whatsapp")
            pause = RATE_LIMIT_PAUSE_SECONDS if code == RATE_LIMITED else self._pair_interval
            raise RetryLater(pause)
        if code == BAD_TOKEN:
            if not self._token_rejected:
                log.error(
                    "WhatsApp rejected the access token (190): set a valid "
                    "WHATSAPP_ACCESS_TOKEN; messages wait until then"
                )
            self._token_rejected = True
            raise TemporaryFailure("access token rejected")
        if code in TEMPLATE_ERRORS:
            log.error("WhatsApp rejected the template %r (%s)", template, code)
            raise TemplateRejected(code, template)
        log.warning("WhatsApp refused a message (%s)", code)
        raise SendRejected(code)


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
