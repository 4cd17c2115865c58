"""Long polling that never wedges: getUpdates is read as plain JSON, so an update that
aiogram cannot parse is journalled like any other (and dealt with when it is handled),
and the offset moves past a batch only after the journal has it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiogram import Bot

from bot.channels.telegram.adapter import arrival
from bot.db.inbound import Arrival

log = logging.getLogger(__name__)

Accept = Callable[[Sequence[Arrival]], Awaitable[int]]
BACKOFF_SECONDS = (1, 2, 5, 10, 30)


class PollFailed(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class TelegramPoller:
    def __init__(
        self,
        bot: Bot,
        accept: Accept,
        allowed_updates: list[str],
        timeout: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._accept = accept
        self._allowed_updates = allowed_updates
        self._timeout = timeout
        self._monotonic = monotonic
        self._offset: int | None = None
        self._started = monotonic()
        self.last_advance: float | None = None  # when a poll last got through, journal included

    def stalled_for(self) -> float:
        """Seconds since polling last got through (or since it started)."""
        return self._monotonic() - (self.last_advance or self._started)

    async def run(self, stop: asyncio.Event) -> None:
        """Polls until `stop` is set. A poll in progress is abandoned then: Telegram has
        not seen it acknowledged and delivers those updates again. A batch that arrived
        is always journalled before the loop looks at `stop` again."""
        failures = 0
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                fetch = asyncio.ensure_future(self._fetch(http))
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({fetch, stopping}, return_when="FIRST_COMPLETED")
                stopping.cancel()
                if fetch not in done:
                    fetch.cancel()
                    await asyncio.gather(fetch, return_exceptions=True)
                    return
                try:
                    updates = fetch.result()
                    await self._journal(updates)
                except PollFailed as error:
                    failures += 1
                    pause = (
                        error.retry_after
                        or BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1]
                    )
                    log.warning("telegram polling: %s; next try in %s s", error, pause)
                    await _sleep_unless(stop, pause)
                    continue
                failures = 0
                self.last_advance = self._monotonic()

    async def _journal(self, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        try:
            await self._accept([arrival(update) for update in updates])
        except Exception as error:
            # Not acknowledged: the same batch comes again with the next poll.
            raise PollFailed(f"journal write failed ({type(error).__name__})") from None
        self._offset = max(update["update_id"] for update in updates) + 1

    async def _fetch(self, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
        url = self._bot.session.api.api_url(token=self._bot.token, method="getUpdates")
        body: dict[str, Any] = {
            "timeout": self._timeout,
            "allowed_updates": self._allowed_updates,
        }
        if self._offset is not None:
            body["offset"] = self._offset
        try:
            async with http.post(
                url, json=body, timeout=aiohttp.ClientTimeout(total=self._timeout + 15)
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PollFailed(f"network error ({type(error).__name__})") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise PollFailed(f"HTTP {status} without JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            described = answer.get("description", "") if isinstance(answer, dict) else ""
            parameters = answer.get("parameters") if isinstance(answer, dict) else None
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise PollFailed(f"HTTP {status}: {described}", retry_after)
        result = answer.get("result")
        if not isinstance(result, list):
            raise PollFailed(f"HTTP {status}: no list of updates")
        updates = [u for u in result if isinstance(u, dict) and _has_id(u)]
        if len(updates) != len(result):
            log.warning(
                "telegram polling: %d update(s) without an id ignored", len(result) - len(updates)
            )
        return updates


def _has_id(update: dict[str, Any]) -> bool:
    update_id = update.get("update_id")
    return isinstance(update_id, int) and not isinstance(update_id, bool)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
