"""`GET /metrics` as Prometheus scrapes it: the real bot on the fake Bot API (and the fake
Graph API), read over HTTP. The counters are process-wide, so each test compares a
scrape after the traffic with one before it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.telegram_harness import CHAT, WEBHOOK_SECRET, Running, local_webhook_url
from tests.test_whatsapp import PHONE, running

Labels = frozenset[tuple[str, str]]


class Scrape:
    """One `/metrics` page, parsed."""

    def __init__(self, body: str) -> None:
        self.values: dict[tuple[str, Labels], float] = {}
        self.label_names: set[str] = set()
        for family in text_string_to_metric_families(body):
            if not family.name.startswith("coach_"):
                continue
            for sample in family.samples:
                self.values[(sample.name, frozenset(sample.labels.items()))] = sample.value
                self.label_names.update(sample.labels)

    def get(self, name: str, **labels: str) -> float | None:
        return self.values.get((name, frozenset(labels.items())))

    def count(self, name: str, **labels: str) -> float:
        """A counter's value; 0 for a series that does not exist yet."""
        return self.get(name, **labels) or 0.0


async def scrape(port: int) -> Scrape:
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain; version=")
                    return Scrape(await response.text())
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.025)  # the web app is still starting
    raise AssertionError("/metrics never came up")


async def until(
    condition: Callable[[Scrape], bool], port: int, what: str, seconds: float = 10
) -> Scrape:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        page = await scrape(port)
        if condition(page):
            return page
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def renamed(running: Running, old: str, new: str) -> None:
    async with running.app.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


TELEGRAM = {"channel": "telegram"}


async def test_handled_updates_and_their_latency_are_counted(polling: Running) -> None:
    port = polling.app.settings.port
    before = await scrape(port)
    await polling.say("/bantuan")
    await polling.say("/tips")
    after = await scrape(port)

    handled = {"channel": "telegram", "outcome": "handled"}
    assert after.count("coach_updates_total", **handled) == (
        before.count("coach_updates_total", **handled) + 2
    )
    assert after.count("coach_handler_seconds_count", **TELEGRAM) == (
        before.count("coach_handler_seconds_count", **TELEGRAM) + 2
    )
    assert after.count("coach_handler_seconds_sum", **TELEGRAM) > before.count(
        "coach_handler_seconds_sum", **TELEGRAM
    )
    assert after.get("coach_journal_lag_seconds", **TELEGRAM) == 0  # nothing waits
    assert after.count("coach_updates_total", channel="telegram", outcome="failed") == (
        before.count("coach_updates_total", channel="telegram", outcome="failed")
    )
    # Nothing about a person becomes a label: no chat id, no name.
    assert after.label_names <= {"channel", "outcome", "kind", "priority", "le"}


async def test_the_journal_lag_grows_while_an_update_waits_and_drops_once_handled(
    polling: Running,
) -> None:
    port = polling.app.settings.port
    await polling.say("/bantuan")  # the worker runs and watches its journal
    # Handling fails until the table is back; the update waits in the journal.
    await renamed(polling, "users", "users_away")
    try:
        polling.fake.push_message(CHAT, "/mode user")
        await until(
            lambda page: (page.get("coach_journal_lag_seconds", **TELEGRAM) or 0) >= 1,
            port,
            "the journal lag never showed the waiting update",
        )
    finally:
        await renamed(polling, "users_away", "users")
    (reply,) = (await polling.fake.wait_for_sent(2, CHAT, timeout=30))[1:]
    assert "Mode user aktif" in reply["text"]
    # The journal row is marked in the commit, before the reply goes out.
    assert (await scrape(port)).get("coach_journal_lag_seconds", **TELEGRAM) == 0


async def test_metrics_are_served_while_the_journal_cannot_be_read(polling: Running) -> None:
    port = polling.app.settings.port
    await polling.say("/bantuan")
    before = await scrape(port)
    assert before.get("coach_journal_lag_seconds", **TELEGRAM) == 0
    await renamed(polling, "inbound", "inbound_away")
    try:
        during = await scrape(port)  # a 500 or no answer fails inside scrape()
    finally:
        await renamed(polling, "inbound_away", "inbound")
    # The last known lag stays, and the counters are all there.
    assert during.get("coach_journal_lag_seconds", **TELEGRAM) == 0
    assert during.count("coach_updates_total", channel="telegram", outcome="handled") == (
        before.count("coach_updates_total", channel="telegram", outcome="handled")
    )


async def test_a_redelivered_webhook_update_counts_as_a_duplicate(webhook: Running) -> None:
    port = webhook.app.settings.port
    fake = webhook.fake
    url = local_webhook_url(webhook)
    duplicate = {"channel": "telegram", "outcome": "duplicate"}
    handled = {"channel": "telegram", "outcome": "handled"}
    before = await scrape(port)
    update = fake.make_message_update(CHAT, "/bantuan")
    assert await fake.post_update_to_webhook(url, update, WEBHOOK_SECRET) == 200
    await fake.wait_for_sent(1, CHAT)
    # The 200 comes after the journal has seen it: the count is there when it arrives.
    assert await fake.post_update_to_webhook(url, update, WEBHOOK_SECRET) == 200
    after = await scrape(port)
    assert after.count("coach_updates_total", **duplicate) == (
        before.count("coach_updates_total", **duplicate) + 1
    )
    assert after.count("coach_updates_total", **handled) == (
        before.count("coach_updates_total", **handled) + 1
    )


async def test_a_telegram_429_is_counted(polling: Running) -> None:
    port = polling.app.settings.port
    before = await scrape(port)
    polling.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    (reply,) = await polling.say("/bantuan")
    assert "/latihan" in reply["text"]  # waited out, then sent
    after = await scrape(port)
    assert after.count("coach_rate_limited_total", **TELEGRAM) == (
        before.count("coach_rate_limited_total", **TELEGRAM) + 1
    )


@pytest.mark.parametrize("code", [130429, 131056])
async def test_a_whatsapp_rate_limit_error_is_counted(database_url: str, code: int) -> None:
    async with running(database_url) as whatsapp:
        port = whatsapp.app.settings.port
        whatsapp_channel = {"channel": "whatsapp"}
        before = await scrape(port)
        whatsapp.fake.fail_next(code, to=PHONE)
        assert await whatsapp.post(whatsapp.fake.text_payload(PHONE, "bantuan")) == 200

        def limited(page: Scrape) -> bool:
            return page.count("coach_rate_limited_total", **whatsapp_channel) > before.count(
                "coach_rate_limited_total", **whatsapp_channel
            )

        after = await until(limited, port, f"Graph error {code} was not counted")
        assert after.count("coach_rate_limited_total", **whatsapp_channel) == (
            before.count("coach_rate_limited_total", **whatsapp_channel) + 1
        )
