"""Nothing Telegram considers delivered is lost: the inbound journal, in polling and
webhook mode, with faults injected into the fake Bot API and the database."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.app import App
from bot.db.inbound import Arrival, InboundRepository
from bot.db.models import InboundUpdate
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import CHAT, WEBHOOK_SECRET, Running, local_webhook_url

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
OTHERS = range(8001, 8011)


def hidden_user_forward(fake: FakeTelegram, chat: int) -> dict[str, Any]:
    """aiogram issue #1840: Telegram sends a hidden-user forward origin without the
    `sender_user_name` aiogram requires."""
    update = fake.make_message_update(chat, "rahasia teruskan")
    update["message"]["forward_origin"] = {"type": "hidden_user", "date": 1764547200}
    return update


def empty_story_reply(fake: FakeTelegram, chat: int) -> dict[str, Any]:
    """aiogram issue #1587: a reply to a story that Telegram sends as `story: {}`."""
    update = fake.make_message_update(chat, "rahasia balasan")
    origin = {"type": "user", "date": 1764547200, "sender_user": fake.user(8999)}
    update["message"]["external_reply"] = {"origin": origin, "story": {}}
    return update


async def journal_rows(running: Running) -> list[InboundUpdate]:
    async with running.app.sessions() as session:
        return list(await session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)))


@pytest.mark.parametrize("unreadable", [hidden_user_forward, empty_story_reply])
async def test_an_unreadable_update_does_not_stop_polling_for_everyone(
    polling: Running,
    caplog: pytest.LogCaptureFixture,
    unreadable: Callable[[FakeTelegram, int], dict[str, Any]],
) -> None:
    fake = polling.fake
    with caplog.at_level(logging.INFO):
        fake.push_update(unreadable(fake, CHAT))
        for chat in OTHERS:
            fake.push_message(chat, "/bantuan")
        for chat in OTHERS:
            (reply,) = await fake.wait_for_sent(1, chat)
            assert "/latihan" in reply["text"]
        (sorry,) = await fake.wait_for_sent(1, CHAT)
    assert "Maaf, pesan itu belum bisa aku baca" in sorry["text"]
    statuses = [row.status for row in await journal_rows(polling)]
    assert statuses == ["unreadable"] + ["done"] * len(OTHERS)
    lines = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(lines) == 1 and "(message)" in lines[0]
    assert "rahasia" not in caplog.text and "Rina" not in caplog.text


async def test_an_html_502_on_a_reply_delays_it_instead_of_losing_it(polling: Running) -> None:
    fake = polling.fake
    # More than the sender's quick retries: the reply waits for the dispatcher.
    fake.fail_next("sendMessage", 502, HTML_502, times=4, html=True)
    fake.push_message(CHAT, "/mode user")
    (late,) = await fake.wait_for_sent(1, CHAT, timeout=30)
    assert late["text"].startswith("Maaf telat, tadi ada gangguan pengiriman.")
    assert "Mode user aktif" in late["text"]


async def test_an_html_502_in_webhook_mode_is_not_lost_and_not_doubled(webhook: Running) -> None:
    fake = webhook.fake
    # More than the sender's quick retries: the reply waits for the dispatcher.
    fake.fail_next("sendMessage", 502, HTML_502, times=4, html=True)
    update = fake.make_message_update(CHAT, "/mode user")
    assert (
        await fake.post_update_to_webhook(local_webhook_url(webhook), update, WEBHOOK_SECRET) == 200
    )
    # Telegram redelivers what it is unsure about; it is recognised.
    assert (
        await fake.post_update_to_webhook(local_webhook_url(webhook), update, WEBHOOK_SECRET) == 200
    )
    (late,) = await fake.wait_for_sent(1, CHAT, timeout=30)
    assert "Mode user aktif" in late["text"]
    await asyncio.sleep(1)
    assert len(fake.sent(CHAT)) == 1


async def test_a_failed_first_handling_is_retried_and_a_redelivery_not_doubled(
    webhook: Running,
) -> None:
    fake = webhook.fake
    # Handling fails outside the coach: the users table is gone for a moment.
    async with webhook.app.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE users RENAME TO users_away"))
    update = fake.make_message_update(CHAT, "/mode user")
    url = local_webhook_url(webhook)
    assert await fake.post_update_to_webhook(url, update, WEBHOOK_SECRET) == 200
    await asyncio.sleep(1.2)
    assert await fake.post_update_to_webhook(url, update, WEBHOOK_SECRET) == 200
    assert fake.sent(CHAT) == []
    async with webhook.app.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE users_away RENAME TO users"))
    (reply,) = await fake.wait_for_sent(1, CHAT, timeout=30)
    assert "Mode user aktif" in reply["text"]  # the real answer, not an apology
    await asyncio.sleep(1)
    assert len(fake.sent(CHAT)) == 1
    user = await webhook.user()
    assert user is not None and user.mode == "user"


async def test_two_updates_reusing_one_id_are_both_answered(webhook: Running) -> None:
    fake = webhook.fake
    url = local_webhook_url(webhook)
    first = fake.make_message_update(CHAT, "/mode user")
    second = fake.make_message_update(CHAT, "/tanya_balik")
    second["update_id"] = first["update_id"]  # ids come back after a week of silence
    for update in (first, second):
        assert await fake.post_update_to_webhook(url, update, WEBHOOK_SECRET) == 200
    mode, ask_back = await fake.wait_for_sent(2, CHAT)
    assert "Mode user aktif" in mode["text"]
    assert "Mode user aktif" not in ask_back["text"]


async def test_a_database_locked_for_nine_seconds_loses_no_polled_update(
    polling: Running, database_url: str
) -> None:
    fake = polling.fake
    release = asyncio.Event()
    locked = asyncio.Event()

    async def hold_the_lock() -> None:
        if database_url.startswith("sqlite"):
            path = make_url(database_url).database
            assert path is not None

            def lock() -> None:
                db = sqlite3.connect(path, timeout=30)
                db.execute("BEGIN IMMEDIATE")
                loop.call_soon_threadsafe(locked.set)
                asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
                db.rollback()
                db.close()

            loop = asyncio.get_running_loop()
            await asyncio.to_thread(lock)
        else:
            async with polling.app.engine.connect() as connection:
                await connection.execute(text("BEGIN"))
                await connection.execute(text("LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                await release.wait()
                await connection.rollback()

    holder = asyncio.create_task(hold_the_lock())
    await locked.wait()
    for chat in OTHERS:
        fake.push_message(chat, "/bantuan")
    await asyncio.sleep(9)
    release.set()
    await holder
    for chat in OTHERS:
        (reply,) = await fake.wait_for_sent(1, chat, timeout=40)
        assert "/latihan" in reply["text"]


async def test_malformed_json_with_the_right_secret_gets_400(webhook: Running) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            local_webhook_url(webhook),
            data=b'{"update_id": 1, "message": {',
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        ) as response,
    ):
        assert response.status == 400
    assert await journal_rows(webhook) == []


async def test_healthz_turns_unhealthy_while_polling_cannot_get_through(
    polling: Running,
) -> None:
    polling.app.settings.inbound_stall_seconds = 1
    polling.fake.fail_next("getUpdates", 502, HTML_502, times=1000, html=True)
    polling.fake.push_message(CHAT, "/bantuan")  # waiting on Telegram's side
    url = f"http://127.0.0.1:{polling.app.settings.port}/healthz"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            await asyncio.sleep(0.1)
            try:
                async with http.get(url) as response:
                    if response.status == 503:
                        body = await response.json()
                        break
            except aiohttp.ClientConnectionError:
                continue  # the bot is still starting
        else:
            raise AssertionError("/healthz never reported the stall")
    assert any("polling" in problem for problem in body["problems"])


async def test_the_same_update_id_for_another_bot_is_another_update(app: App) -> None:
    """A new token on the same database starts its update ids again."""
    arrival = Arrival("1", '{"update_id": 1}', "7001", "message")
    async with app.sessions() as session, session.begin():
        old_bot = InboundRepository(session, "telegram", "111")
        new_bot = InboundRepository(session, "telegram", "222")
        assert len(await old_bot.record([arrival], app.clock())) == 1
        assert len(await new_bot.record([arrival], app.clock())) == 1
        assert await old_bot.record([arrival], app.clock()) == []  # a redelivery


async def test_a_chats_updates_take_turns_across_processes(app: App) -> None:
    """Two instances on PostgreSQL never handle one chat's updates at once or out of
    order; SQLite serves one process, whose chat locks keep the order."""
    arrivals = [Arrival(str(n), f'{{"update_id": {n}}}', "7001", "message") for n in (1, 2, 3)]
    async with app.sessions() as session, session.begin():
        first, second, third = await InboundRepository(session, "telegram", "111").record(
            arrivals, app.clock()
        )

    async def turn(row: InboundUpdate) -> bool:
        async with app.sessions() as session, session.begin():
            return await InboundRepository(session, "telegram", "111").take_turn(row)

    if app.engine.dialect.name != "postgresql":
        assert await turn(third)
        return
    # An update whose earlier one is still pending waits.
    assert not await turn(second)
    async with app.sessions() as session, session.begin():
        journal = InboundRepository(session, "telegram", "111")
        assert await journal.take_turn(first)
        other = asyncio.create_task(turn(second))
        await asyncio.sleep(0.3)
        assert not other.done()  # the chat is held until this transaction ends
        assert await journal.claim(first.id, app.clock())
    assert await other  # the first is handled: now it is the second's turn
    assert not await turn(third)  # the second is still pending
