"""The fake Telegram server against the real aiogram client (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.methods import GetChat
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram_api import FakeTelegram, TelegramHTMLError, parse_telegram_html

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="HR", callback_data="round:hr"),
            InlineKeyboardButton(text="User", callback_data="round:user"),
        ]
    ]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = fake.make_bot(default=DefaultBotProperties(parse_mode="HTML"))
    yield bot
    await bot.session.close()


async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "coach_test_bot")
    assert fake.calls == [("getMe", {})]
    assert fake.request_count == 1


async def test_send_message_is_recorded_decoded(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(1001, "<b>Halo</b> Rina &amp; teman", reply_markup=KEYBOARD)

    [sent] = fake.sent(1001)
    assert sent == {
        "chat_id": 1001,
        "text": "<b>Halo</b> Rina &amp; teman",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "HR", "callback_data": "round:hr"},
                    {"text": "User", "callback_data": "round:user"},
                ]
            ]
        },
        "message_id": 1,
    }
    # What comes back is what Telegram makes of it: tags become entities.
    assert message.message_id == 1
    assert message.text == "Halo Rina & teman"
    assert message.html_text == "<b>Halo</b> Rina &amp; teman"
    assert message.reply_markup is not None
    assert message.reply_markup.model_dump() == KEYBOARD.model_dump()
    assert message.chat.id == 1001 and message.chat.type == "private"
    assert message.from_user is not None and message.from_user.id == fake.bot_id
    assert (await bot.send_message(1001, "lagi")).message_id == 2
    assert fake.sent(2002) == []


async def test_scripted_429_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1001, "halo")
    assert caught.value.retry_after == 7

    await bot.send_message(1001, "halo")  # only the next call was scripted
    assert [s["text"] for s in fake.sent()] == ["halo"]
    assert [method for method, _ in fake.calls] == ["sendMessage", "sendMessage"]
    assert fake.errors == [("sendMessage", 429, "Too Many Requests: retry after 7")]


async def test_forbidden_scripted_and_after_block(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(1001, "halo")

    fake.push_my_chat_member(1001, "kicked")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1001, "halo")
    fake.push_my_chat_member(1001, "member")
    await bot.send_message(1001, "halo")
    assert len(fake.sent(1001)) == 1

    updates = await bot.get_updates()
    member = updates[1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("kicked", "member")


async def test_get_updates_long_polls_and_confirms(fake: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # nothing queued yet: the request is held open
    pushed = fake.push_message(1001, "/start", username="rina_dev")

    [update] = await poll
    assert loop.time() - started < 2
    assert update.update_id == pushed["update_id"]
    assert update.message is not None and update.message.text == "/start"
    assert update.message.from_user is not None
    assert update.message.from_user.username == "rina_dev"

    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    assert fake.pending_updates == []
    assert fake.calls_of("getUpdates")[0] == {"timeout": 5}


async def test_polling_dispatcher_replies_and_handles_buttons(fake: FakeTelegram) -> None:
    bot = fake.make_bot(default=DefaultBotProperties(parse_mode="HTML"))
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Pilih ronde:", reply_markup=KEYBOARD)

    @dp.callback_query(F.data.startswith("round:"))
    async def pick(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.answer()
        await query.message.edit_text(f"Ronde: <b>{query.data}</b>")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        fake.push_message(1001, "/start")
        [menu] = await fake.wait_for_sent(1, chat_id=1001)
        assert menu["text"] == "Pilih ronde:"

        fake.push_callback(1001, "round:hr", message_id=menu["message_id"])
        [edit] = await fake.wait_for_edits(1, chat_id=1001)
        assert edit["text"] == "Ronde: <b>round:hr</b>"
        assert edit["message_id"] == menu["message_id"]
        assert "reply_markup" not in edit  # so Telegram drops the keyboard
        assert fake.message(1001, menu["message_id"]) == {
            "message_id": menu["message_id"],
            "from": fake.bot_user,
            "chat": {"id": 1001, "type": "private", "first_name": "Rina"},
            "date": fake.message(1001, menu["message_id"])["date"],  # type: ignore[index]
            "text": "Ronde: round:hr",
            "entities": [{"type": "bold", "offset": 7, "length": 8}],
            "edit_date": fake.message(1001, menu["message_id"])["edit_date"],  # type: ignore[index]
        }
        assert [a["callback_query_id"] for a in fake.answered_callbacks] == ["4000000000000001"]
    finally:
        await dp.stop_polling()
        await polling


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    session = AiohttpSession(api=fake.api_server())
    async with Bot("654321:WRONG-token", session=session) as wrong:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    assert fake.calls == [] and fake.request_count == 1


async def test_unknown_method_and_bad_html(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot(GetChat(chat_id=1001))
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "nama"'):
        await bot.send_message(1001, "Halo <nama>!")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        sent = await bot.send_message(1001, "sama")
        await bot.edit_message_text("sama", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "a" * 4097)
    long_button = InlineKeyboardButton(text="x", callback_data="x" * 65)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            1001, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[long_button]])
        )


def test_parse_telegram_html() -> None:
    assert parse_telegram_html("  <i>a</i> &lt;b&gt; & <a href='https://x.id'>c</a> ") == (
        "a <b> & c",
        [
            {"type": "italic", "offset": 0, "length": 1},
            {"type": "text_link", "offset": 8, "length": 1, "url": "https://x.id"},
        ],
    )
    with pytest.raises(TelegramHTMLError, match='expected "</b>", found "</i>"'):
        parse_telegram_html("<b>x</i>")
    with pytest.raises(TelegramHTMLError, match="Can't find end tag"):
        parse_telegram_html("<b>x")


async def test_commands_and_wait_timeout(fake: FakeTelegram, bot: Bot) -> None:
    from aiogram.types import BotCommand

    await bot.set_my_commands([BotCommand(command="latihan", description="Latihan soal")])
    assert fake.commands == [{"command": "latihan", "description": "Latihan soal"}]
    with pytest.raises(AssertionError, match="expected 1 sent message"):
        await fake.wait_for_sent(1, timeout=0.2)


async def test_webhook_delivery_and_reply_in_body(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        # Returning the method makes aiogram answer inside the webhook response.
        return message.answer(f"Kamu bilang: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cret").register(
        app, path="/tg"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
    try:
        await bot.set_webhook("https://coach.example/tg", secret_token="s3cret")
        assert fake.webhook == {"url": "https://coach.example/tg", "secret_token": "s3cret"}
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()

        update = fake.make_message_update(1001, "halo")
        assert await fake.post_update_to_webhook(url, update, "wrong") == 401
        assert await fake.post_update_to_webhook(url, update, "s3cret") == 200
        assert [(m["chat_id"], m["text"]) for m in fake.sent()] == [(1001, "Kamu bilang: halo")]
        assert fake.calls_of("sendMessage") == [
            {"chat_id": 1001, "text": "Kamu bilang: halo", "parse_mode": "HTML"}
        ]

        await bot.delete_webhook()
        assert fake.webhook is None
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_https_webhook_rule_is_opt_in() -> None:
    async with FakeTelegram(require_https_webhook=True) as strict:
        bot = strict.make_bot()
        try:
            with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
                await bot.set_webhook("http://127.0.0.1:8080/tg")
            assert strict.webhook is None
        finally:
            await bot.session.close()


async def _raw_send_messages(server: FakeTelegram, count: int) -> list[tuple[int, Any]]:
    """`count` sendMessage calls at once over plain HTTP: (status, decoded body) each."""
    url = f"{server.base_url}/bot{server.token}/sendMessage"
    async with aiohttp.ClientSession() as http:

        async def send(i: int) -> tuple[int, Any]:
            async with http.post(url, data={"chat_id": str(1001 + i), "text": "halo"}) as answer:
                return answer.status, await answer.json()

        return list(await asyncio.gather(*(send(i) for i in range(count))))


async def test_rate_limit_answers_telegrams_429_past_the_limit() -> None:
    async with FakeTelegram(max_per_second=5) as limited:
        answers = await _raw_send_messages(limited, 8)

        assert sorted(status for status, _ in answers) == [200] * 5 + [429] * 3
        telegrams_429 = {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        assert [body for status, body in answers if status == 429] == [telegrams_429] * 3
        assert limited.rate_limited == 3
        assert len(limited.sent()) == 5 and len(limited.sent_times) == 5
        assert len(limited.calls_of("sendMessage")) == 8  # every call is seen

        # Other methods are not limited; aiogram reads the 429 as TelegramRetryAfter.
        bot = limited.make_bot()
        try:
            assert (await bot.get_me()).id == limited.bot_id
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(1001, "lagi")
            assert caught.value.retry_after == 1
            # The window slides: a second later the bot may send again.
            await asyncio.sleep(1.05)
            await bot.send_message(1001, "lagi")
        finally:
            await bot.session.close()
        assert limited.rate_limited == 4 and len(limited.sent()) == 6


async def test_rate_limit_lets_a_burst_within_it_through() -> None:
    async with FakeTelegram(max_per_second=10) as limited, FakeTelegram() as unlimited:
        within = await _raw_send_messages(limited, 10)
        unthrottled = await _raw_send_messages(unlimited, 50)

    assert [status for status, _ in within] == [200] * 10
    assert [status for status, _ in unthrottled] == [200] * 50
    assert (limited.rate_limited, unlimited.rate_limited) == (0, 0)
    assert (len(limited.sent()), len(unlimited.sent())) == (10, 50)
