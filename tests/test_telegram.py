"""The real aiogram bot against a fake Telegram Bot API on loopback, in polling and
webhook mode. Assertions are on what the user receives and what the database holds."""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from bot.app import open_app
from bot.channels.telegram.render import split_for_telegram
from bot.channels.telegram.service import TelegramService
from bot.db.models import Delivery, PracticeAttempt, User
from bot.db.schedule import BLOCKED, DeliveryRepository
from tests.answers import answer_to, question_shown
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import CHAT, Running, local_webhook_url, telegram_settings


def keyboard_payloads(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_whole_session_over_polling(polling: Running) -> None:
    fake = polling.fake
    welcome, ask_role = await polling.say("/start", count=2)
    assert welcome["parse_mode"] == "HTML"
    assert "Halo, Rina!" in welcome["text"]
    assert "v1:ob:role:developer" in keyboard_payloads(ask_role)

    await polling.tap("v1:ob:role:developer", message_id=ask_role["message_id"])
    ask_level = fake.sent(CHAT)[-1]
    assert "pengalaman kerjamu" in ask_level["text"]
    await polling.tap("v1:ob:level:junior", message_id=ask_level["message_id"])
    assert "Jam berapa" in fake.sent(CHAT)[-1]["text"]
    (ask_zone,) = await polling.say("07.00")
    assert "zona waktu" in ask_zone["text"]
    (done,) = await polling.say("WITA")
    assert "pukul 07.00 WITA" in done["text"]

    (mode,) = await polling.say("/mode user")
    assert "Mode user aktif" in mode["text"]
    (question,) = await polling.say("/latihan")
    assert "Latihan · mode user · Developer" in question["text"]
    answer = answer_to(polling.app.coach.library, question["text"])
    (feedback,) = await polling.say(answer)
    assert "Feedback jawabanmu · skor" in feedback["text"]
    (mode,) = await polling.say("/mode hr")
    assert "Mode HR aktif" in mode["text"]
    (tip,) = await polling.say("/tips")
    assert "Tips interview · mode HR" in tip["text"]

    user = await polling.user()
    assert user is not None
    assert (user.role, user.mode, user.timezone) == ("developer", "hr", "Asia/Makassar")
    async with polling.app.sessions() as session:
        attempts = list(await session.scalars(select(PracticeAttempt)))
    assert [a.answer for a in attempts] == [answer]
    assert len(fake.answered_callbacks) == 2  # the role and the level buttons


async def test_commands_menu_is_set_in_indonesian(polling: Running) -> None:
    await polling.say("/bantuan")
    commands = {c["command"]: c["description"] for c in polling.fake.commands}
    assert commands["latihan"] == "Soal latihan dan feedback"
    assert {"start", "mode", "tips", "bantuan"} <= set(commands)


async def test_mode_button_edits_the_message_it_sits_on(polling: Running) -> None:
    (menu,) = await polling.say("/mode")
    assert keyboard_payloads(menu) == ["v1:mode:hr", "v1:mode:user"]
    await polling.tap("v1:mode:user", message_id=menu["message_id"])
    (edit,) = polling.fake.edits(CHAT)
    assert edit["message_id"] == menu["message_id"]
    assert "Mode user aktif" in edit["text"]
    user = await polling.user()
    assert user is not None and user.mode == "user"


async def test_forged_callback_gets_a_note_and_changes_nothing(polling: Running) -> None:
    (menu,) = await polling.say("/mode")
    for forged in ("v1:mode:root", "v0:mode:user", "' OR 1=1 --"):
        await polling.tap(forged, message_id=menu["message_id"])
        assert "Tombol itu sudah tidak berlaku" in polling.fake.sent(CHAT)[-1]["text"]
    user = await polling.user()
    assert user is not None and user.mode == "hr"
    assert len(polling.fake.answered_callbacks) == 3


async def test_html_in_a_name_is_escaped(polling: Running) -> None:
    polling.fake.push_message(CHAT, "/start", first_name="<b>x</b>")
    welcome = (await polling.fake.wait_for_sent(1, CHAT))[0]
    assert "Halo, &lt;b&gt;x&lt;/b&gt;!" in welcome["text"]
    assert "<b>" not in welcome["text"]


async def test_user_text_with_html_is_escaped_when_echoed(polling: Running) -> None:
    (reply,) = await polling.say("/zona <i>WIB</i>")
    assert "Zona “&lt;i&gt;WIB&lt;/i&gt;” tidak aku kenal" in reply["text"]


async def test_a_message_over_4096_characters_gets_a_clear_answer(polling: Running) -> None:
    (reply,) = await polling.say("a" * 5000)
    assert "Pesanmu 5.000 karakter" in reply["text"]


async def test_a_long_reply_is_split_under_the_limit(polling: Running) -> None:
    from handlers.types import Button, Reply

    paragraph = "Latihan <itu> penting & perlu konsisten. " * 30
    reply = Reply("\n\n".join([paragraph] * 12), (Button("Lagi", "v1:tips:more"),))
    messages = await polling.service.sender.send(str(CHAT), reply)
    sent = polling.fake.sent(CHAT)[-len(messages) :]
    assert len(sent) >= 3
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert [bool(m.get("reply_markup")) for m in sent] == [False] * (len(sent) - 1) + [True]
    assert "&lt;itu&gt;" in sent[0]["text"] and "&amp;" in sent[0]["text"]


def test_split_keeps_every_character_and_never_cuts_an_entity() -> None:
    original = ("<&> " * 3000).strip()
    chunks = split_for_telegram(original, limit=100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert " ".join(chunks) == original.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;"
    )


@pytest.mark.parametrize(
    "text",
    [
        "AAAA " * 900 + "\n\n" + "BBBB " * 900,  # a paragraph too long for one message
        "x" * 9000 + "\n" + "&" * 2000,  # no space to cut at, and entities
    ],
)
def test_any_text_splits_under_the_limit_and_keeps_every_character(text: str) -> None:
    chunks = split_for_telegram(text)
    assert all(len(chunk) <= 4096 for chunk in chunks)
    joined = "".join(html.unescape(chunk) for chunk in chunks)
    assert joined.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


async def test_429_is_waited_out_and_the_message_still_arrives(polling: Running) -> None:
    polling.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    (reply,) = await polling.say("/bantuan")
    assert "/latihan" in reply["text"]
    assert loop.time() - started >= 1
    attempts = [c for c in polling.fake.calls if c[0] == "sendMessage"]
    assert len(attempts) == 2


async def test_403_marks_the_user_blocked_and_start_reactivates(polling: Running) -> None:
    await polling.say("/bantuan")
    polling.fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    polling.fake.push_message(CHAT, "/tips")
    await polling.until_user(lambda user: user.blocked, "user was not marked blocked")
    await polling.say("/start", count=2)
    user = await polling.user()
    assert user is not None and not user.blocked


async def test_my_chat_member_updates_block_and_unblock(polling: Running) -> None:
    await polling.say("/interview 3 hari lagi jam 10.00 hr")
    await polling.say("ya")
    polling.fake.push_my_chat_member(CHAT, "kicked")
    await polling.until_user(lambda user: user.blocked, "kicked did not block")
    # What the dispatcher does when a send then fails with 403: the rows are cancelled.
    user = await polling.user()
    assert user is not None
    async with polling.app.sessions() as session, session.begin():
        await DeliveryRepository(session).cancel_pending(user.id, reason=BLOCKED)

    polling.fake.push_my_chat_member(CHAT, "member")
    await polling.until_user(lambda user: not user.blocked, "member did not unblock")
    # The unblock alone brings the interview plan back, without a /start.
    async with polling.app.sessions() as session:
        statuses = set(
            await session.scalars(select(Delivery.status).where(Delivery.kind == "plan"))
        )
    assert "pending" in statuses and "cancelled" not in statuses
    (schedule,) = await polling.say("/jadwal")
    assert "Cek logistik" in schedule["text"]


async def test_quick_taps_from_one_chat_are_answered_one_by_one(polling: Running) -> None:
    (tip,) = await polling.say("/tips")
    for _ in range(2):
        before = len(polling.fake.sent(CHAT))
        polling.fake.push_callback(CHAT, "v1:tips:more", message_id=tip["message_id"])
        polling.fake.push_callback(CHAT, "v1:tips:more", message_id=tip["message_id"])
        await polling.fake.wait_for_sent(before + 2, CHAT)
    tips = [m["text"] for m in polling.fake.sent(CHAT)]
    assert not any("Maaf, ada gangguan" in text for text in tips)
    # Each tap got its own tip, none served twice.
    assert len(set(tips)) == len(tips) == 5


async def test_a_passing_telegram_outage_does_not_lose_the_feedback(polling: Running) -> None:
    (question,) = await polling.say("/latihan")
    polling.fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    (feedback,) = await polling.say(answer_to(polling.app.coach.library, question["text"]))
    assert "Feedback jawabanmu" in feedback["text"]


async def test_a_longer_outage_delays_the_reply_instead_of_losing_it(polling: Running) -> None:
    (question,) = await polling.say("/latihan")
    # More failures than the sender's quick retries: the reply waits in the database.
    polling.fake.fail_next("sendMessage", 502, "Bad Gateway", times=4)
    polling.fake.push_message(CHAT, answer_to(polling.app.coach.library, question["text"]))
    before = len(polling.fake.sent(CHAT))
    (late,) = (await polling.fake.wait_for_sent(before + 1, CHAT, timeout=15))[before:]
    assert late["text"].startswith("Maaf telat, tadi ada gangguan pengiriman.")
    assert "Feedback jawabanmu" in late["text"]
    question_id = question_shown(polling.app.coach.library, question["text"]).id
    assert keyboard_payloads(late) == [
        f"v1:latihan:retry:{question_id}",
        f"v1:latihan:example:{question_id}",
        "v1:latihan:next",
    ]
    for _ in range(100):  # the row is marked right after Telegram accepted the message
        async with polling.app.sessions() as session:
            statuses = list(
                await session.scalars(select(Delivery.status).where(Delivery.kind == "reply"))
            )
        if "sending" not in statuses:
            break
        await asyncio.sleep(0.02)
    assert statuses == ["sent", "sent"]  # the question and the late feedback


async def test_a_burst_gets_one_polite_note(polling: Running) -> None:
    for i in range(40):
        polling.fake.push_message(CHAT, f"/tips {i}")
    # Replies come in order, at Telegram's pace for one chat: the first eight, then the
    # note, and nothing for the rest of the burst.
    await polling.fake.wait_for_sent(9, CHAT, timeout=30)
    await asyncio.sleep(1.5)
    texts = [m["text"] for m in polling.fake.sent(CHAT)]
    assert len(texts) == 9
    assert "Pelan-pelan" in texts[-1]


async def test_a_failing_handler_apologises_and_logs_without_the_message_text(
    polling: Running, caplog: pytest.LogCaptureFixture
) -> None:
    await polling.say("/bantuan")
    async with polling.app.engine.begin() as connection:
        await connection.execute(text("DROP TABLE served_items"))
    with caplog.at_level(logging.ERROR):
        (reply,) = await polling.say("/tips rahasia-pesan")
    assert "Maaf, ada gangguan" in reply["text"]
    assert "handler failed" in caplog.text
    assert "rahasia-pesan" not in caplog.text
    (reply,) = await polling.say("/bantuan")
    assert "/latihan" in reply["text"]


async def test_webhook_with_the_right_secret_is_served(webhook: Running) -> None:
    fake = webhook.fake
    assert fake.webhook is not None
    assert fake.webhook["secret_token"] == "s3cret-webhook-token"
    assert fake.webhook["url"] == "https://coach.example.test/webhook/telegram"
    url = local_webhook_url(webhook)
    status = await fake.post_update_to_webhook(
        url, fake.make_message_update(CHAT, "/mode user"), "s3cret-webhook-token"
    )
    assert status == 200
    (reply,) = await fake.wait_for_sent(1, CHAT)
    assert "Mode user aktif" in reply["text"]
    user = await webhook.user()
    assert user is not None and user.mode == "user"


async def test_webhook_with_a_wrong_secret_is_rejected_and_nothing_happens(
    webhook: Running,
) -> None:
    fake = webhook.fake
    assert fake.webhook is not None
    for secret in ("wrong", None):
        status = await fake.post_update_to_webhook(
            local_webhook_url(webhook), fake.make_message_update(CHAT, "/mode user"), secret
        )
        assert status in (401, 403)
    await asyncio.sleep(0.3)
    assert fake.sent(CHAT) == []
    assert await webhook.user() is None


async def test_healthz_answers_on_the_web_app(webhook: Running) -> None:
    port = webhook.app.settings.port
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


def test_run_without_a_channel_exits_non_zero_and_suggests_chat(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "interview-coach chat" in result.stderr


async def test_shutdown_waits_for_an_update_in_flight(
    telegram: FakeTelegram, database_url: str
) -> None:
    async with open_app(telegram_settings(telegram, database_url)) as app:
        service = TelegramService(app, polling_timeout=1)
        task = asyncio.create_task(service.run_polling(handle_signals=False))
        telegram.delays["sendMessage"] = 1.5
        telegram.push_message(CHAT, "/mode user")
        await telegram.wait_for_call("sendMessage")  # the reply is on its way
        assert service.worker.busy == 1
        await service.stop_polling()
        await asyncio.wait_for(task, 15)
        # The update finished before the bot stopped: reply delivered, change stored.
        assert "Mode user aktif" in telegram.sent(CHAT)[0]["text"]
        assert service.worker.busy == 0
        async with app.sessions() as session:
            user = await session.scalar(select(User).where(User.external_id == str(CHAT)))
        assert user is not None and user.mode == "user"


async def test_a_redelivered_webhook_update_is_answered_once(webhook: Running) -> None:
    fake = webhook.fake
    update = fake.make_message_update(CHAT, "/mode user")
    for _ in range(3):
        status = await fake.post_update_to_webhook(
            local_webhook_url(webhook), update, "s3cret-webhook-token"
        )
        assert status == 200
    await fake.wait_for_sent(1, CHAT)
    await asyncio.sleep(0.3)
    assert len(fake.sent(CHAT)) == 1
