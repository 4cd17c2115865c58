"""The Telegram sender against the fake Bot API over loopback: what reaches Telegram,
and when. Timing checks compare the fake's arrival stamps with each other, with wide
margins, so a loaded machine slows them down without failing them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramServerError

from bot.channels.base import RetryLater
from bot.channels.telegram import sender as sender_module
from bot.channels.telegram.sender import TelegramSender, TransientTelegramError
from handlers.types import Reply
from tests.fakes.telegram_api import FakeTelegram

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class Setup:
    fake: FakeTelegram
    bot: Bot
    sender: TelegramSender
    blocked: list[str] = field(default_factory=list)

    def send_times(self, chat_id: int | None = None) -> list[float]:
        return [
            at
            for at, params in self.fake.timed_calls_of("sendMessage")
            if chat_id is None or params["chat_id"] == chat_id
        ]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The retries are what is under test, not the length of the wait between them.
    monkeypatch.setattr(sender_module, "TRANSIENT_BACKOFF_SECONDS", 0.01)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with FakeTelegram() as fake:
        bot = fake.make_bot()
        blocked: list[str] = []

        async def on_blocked(chat_id: str) -> None:
            blocked.append(chat_id)

        try:
            yield Setup(fake, bot, TelegramSender(bot, on_blocked=on_blocked), blocked)
        finally:
            await bot.session.close()


async def test_an_html_502_page_then_success_delivers_the_message_once(setup: Setup) -> None:
    setup.fake.fail_next("sendMessage", 502, NGINX_502, html=True)

    [message] = await setup.sender.send("1001", Reply("Halo Rina"))

    assert [m["text"] for m in setup.fake.sent(1001)] == ["Halo Rina"]
    assert message.message_id == setup.fake.sent(1001)[0]["message_id"]
    assert len(setup.fake.calls_of("sendMessage")) == 2


async def test_an_html_502_forever_gives_the_transient_error_after_the_retries(
    setup: Setup,
) -> None:
    setup.fake.fail_next("sendMessage", 502, NGINX_502, times=100, html=True)

    with pytest.raises(TransientTelegramError) as caught:
        await setup.sender.send("1001", Reply("Halo Rina"))

    assert isinstance(caught.value.original, ClientDecodeError)
    assert "Halo" not in str(caught.value)
    assert setup.fake.sent() == []
    assert len(setup.fake.calls_of("sendMessage")) == 1 + sender_module.MAX_TRANSIENT_RETRIES


async def test_a_json_5xx_forever_gives_the_same_transient_error(setup: Setup) -> None:
    setup.fake.fail_next("sendMessage", 500, "Internal Server Error", times=100)

    with pytest.raises(TransientTelegramError) as caught:
        await setup.sender.send("1001", Reply("Halo"))

    # Callers that still catch aiogram's server error are not surprised.
    assert isinstance(caught.value, TelegramServerError)
    assert isinstance(caught.value.original, TelegramServerError)
    assert setup.fake.sent() == []
    assert len(setup.fake.calls_of("sendMessage")) == 1 + sender_module.MAX_TRANSIENT_RETRIES


async def test_deliver_leaves_a_proxy_error_to_the_scheduler_at_once(setup: Setup) -> None:
    setup.fake.fail_next("sendMessage", 504, "<html>504 Gateway Time-out</html>", html=True)

    with pytest.raises(TransientTelegramError):
        await setup.sender.deliver("1001", Reply("Latihan harian"))
    assert len(setup.fake.calls_of("sendMessage")) == 1

    await setup.sender.deliver("1001", Reply("Latihan harian"))  # the dispatcher's retry
    assert [m["text"] for m in setup.fake.sent(1001)] == ["Latihan harian"]


async def test_deliver_still_turns_a_lasting_429_into_retry_later(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "MAX_RETRY_AFTER_ATTEMPTS", 2)
    setup.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", 1, times=2)

    with pytest.raises(RetryLater) as caught:
        await setup.sender.deliver("1001", Reply("Latihan harian"))
    assert caught.value.seconds == 1
    assert setup.fake.sent() == []


async def test_an_unchanged_edit_counts_as_done(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    [message] = await setup.sender.send("1001", Reply("Pilih ronde"))

    with caplog.at_level(logging.INFO, logger=sender_module.__name__):
        assert await setup.sender.edit("1001", message.message_id, Reply("Pilih ronde"))

    assert [code for _, code, _ in setup.fake.errors] == [400]  # "message is not modified"
    assert len(setup.fake.calls_of("editMessageText")) == 1
    assert len(setup.fake.sent()) == 1  # nothing was sent again
    assert caplog.records == []


async def test_a_bad_request_is_logged_once_with_telegrams_words_only(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Rina Kusuma, jawaban rahasia 42"
    description = "Bad Request: can't parse entities: Unsupported start tag at byte offset 3"
    setup.fake.fail_next("sendMessage", 400, description)

    with (
        caplog.at_level(logging.DEBUG, logger=sender_module.__name__),
        pytest.raises(TelegramBadRequest),
    ):
        await setup.sender.send("1001", Reply(secret))

    [record] = caplog.records
    logged = record.getMessage()
    assert description in logged
    assert secret not in logged and "Rina" not in logged
    assert setup.fake.token not in logged
    assert len(setup.fake.calls_of("sendMessage")) == 1  # a 400 is not retried


async def test_another_bad_edit_still_propagates(setup: Setup) -> None:
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await setup.sender.edit("1001", 999, Reply("Pilih ronde"))


async def test_one_chats_429_holds_only_that_chat(setup: Setup) -> None:
    slow, others = 1001, list(range(2001, 2021))
    setup.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", 2, chat_id=slow)

    await asyncio.gather(
        setup.sender.send(str(slow), Reply("untuk A")),
        *(setup.sender.send(str(chat), Reply("untuk yang lain")) for chat in others),
    )

    first_try, retry = setup.send_times(slow)
    assert retry - first_try >= 1.95  # Telegram's retry_after was honoured
    other_times = [t for chat in others for t in setup.send_times(chat)]
    assert len(other_times) == len(others)  # one call each: none was refused
    assert max(other_times) < retry  # nobody else waited for A
    assert {m["chat_id"] for m in setup.fake.sent()} == {slow, *others}
    assert [m["text"] for m in setup.fake.sent(slow)] == ["untuk A"]


async def test_429s_from_three_chats_at_once_pause_everyone(setup: Setup) -> None:
    flooded, others = [1001, 1002, 1003], list(range(2001, 2041))
    for chat in flooded:
        setup.fake.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 2", 2, chat_id=chat
        )

    await asyncio.gather(
        *(setup.sender.send(str(chat), Reply("halo")) for chat in [*flooded, *others])
    )

    third_429 = max(setup.send_times(chat)[0] for chat in flooded)
    # Without the pause, the 40 other chats (1.6 s at 25/s) would fill this window.
    # Calls already on the way when the third 429 came back may land just after it.
    during_pause = [t for t in setup.send_times() if third_429 + 0.5 < t < third_429 + 1.9]
    assert during_pause == []
    assert {m["chat_id"] for m in setup.fake.sent()} == {*flooded, *others}
    assert len(setup.fake.sent()) == len(flooded) + len(others)


async def test_the_global_limit_is_steady_from_the_first_second(setup: Setup) -> None:
    chats = range(3001, 3101)

    await asyncio.gather(*(setup.sender.send(str(chat), Reply("pengingat")) for chat in chats))

    times = sorted(setup.send_times())
    assert len(times) == 100 and setup.fake.errors == []
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= 30  # Telegram's limit; 25 a second is the aim
    assert times[-1] - times[0] >= 3.5  # 99 gaps of 40 ms, not a burst up front
    assert times[-1] - times[0] < 20
