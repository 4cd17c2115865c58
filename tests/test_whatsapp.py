"""The WhatsApp channel as it runs: signed webhooks from the fake Graph API into the real
service, and what the user receives back. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from bot.app import App, open_app
from bot.channels.whatsapp.service import WhatsAppService
from bot.clock import utc_now
from bot.db.models import Delivery, InboundUpdate, User
from bot.settings import Settings
from tests.conftest import FakeClock
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.telegram_harness import free_port

PHONE = "6281234567890"
VERIFY_TOKEN = "verify-me-please"


@dataclass
class WhatsApp:
    app: App
    service: WhatsAppService
    fake: FakeWhatsApp
    url: str

    async def post(self, payload: dict[str, Any] | bytes, **options: Any) -> int:
        status, _ = await self.fake.post_webhook(self.url, payload, **options)
        return status

    async def say(self, text: str, user: str = PHONE, count: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(user))
        assert await self.post(self.fake.text_payload(user, text)) == 200
        return (await self.fake.wait_for_sent(before + count, user))[before:]

    async def tap(self, payload: str, title: str, user: str = PHONE) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(user))
        message = self.fake.button_reply(user, payload, title)
        assert await self.post(self.fake.payload(message)) == 200
        return (await self.fake.wait_for_sent(before + 1, user))[before:]

    async def user(self, key: str = PHONE) -> User | None:
        async with self.app.sessions() as session:
            return await session.scalar(
                select(User).where(User.channel == "whatsapp", User.external_id == key)
            )


def settings_for(fake: FakeWhatsApp, database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        whatsapp_access_token=SecretStr(fake.access_token),
        whatsapp_phone_number_id=fake.phone_number_id,
        whatsapp_app_secret=SecretStr(fake.app_secret),
        whatsapp_verify_token=SecretStr(VERIFY_TOKEN),
        whatsapp_api_url=fake.base_url,
        whatsapp_api_version=fake.version,
        host="127.0.0.1",
        port=free_port(),
    )


async def wait_until_serving(fake: FakeWhatsApp, url: str) -> None:
    for _ in range(400):
        try:
            if (await fake.verify_webhook(url, VERIFY_TOKEN))[0] == 200:
                return
        except aiohttp.ClientConnectionError:
            pass  # still starting
        await asyncio.sleep(0.025)
    raise AssertionError("the WhatsApp webhook never came up")


@asynccontextmanager
async def running(database_url: str, clock: FakeClock | None = None) -> AsyncIterator[WhatsApp]:
    """The WhatsApp service alone, on the fake Graph API (whose Unix time follows `clock`,
    when one is given)."""
    fake_clock = time.time if clock is None else lambda: clock.now.timestamp()
    async with FakeWhatsApp(clock=fake_clock) as fake:
        settings = settings_for(fake, database_url)
        async with open_app(settings, clock or utc_now) as app:
            service = WhatsAppService(app)
            stop = asyncio.Event()
            task = asyncio.create_task(service.run(stop))
            url = f"http://127.0.0.1:{settings.port}/webhook/whatsapp"
            await wait_until_serving(fake, url)
            try:
                yield WhatsApp(app, service, fake, url)
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)


@pytest.fixture
async def whatsapp(database_url: str) -> AsyncIterator[WhatsApp]:
    async with running(database_url) as whatsapp:
        yield whatsapp


def body_of(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str(message["text"]["body"])
    if message.get("type") == "interactive":
        return str(message["interactive"]["body"]["text"])
    return ""


def choices(message: dict[str, Any]) -> list[str]:
    interactive = message.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [b["reply"]["id"] for b in action["buttons"]]
    if interactive.get("type") == "list":
        return [row["id"] for section in action["sections"] for row in section["rows"]]
    return []


async def test_the_handshake_echoes_the_challenge_and_refuses_a_wrong_token(
    whatsapp: WhatsApp,
) -> None:
    assert await whatsapp.fake.verify_webhook(whatsapp.url, VERIFY_TOKEN, "424242") == (
        200,
        "424242",
    )
    status, _ = await whatsapp.fake.verify_webhook(whatsapp.url, "wrong", "424242")
    assert status == 403


async def test_a_coaching_session_with_the_bots_own_buttons_and_lists(
    whatsapp: WhatsApp,
) -> None:
    # The greeting and the first question are two replies, merged into one message.
    (welcome,) = await whatsapp.say("start")
    assert "Halo, Rina!" in body_of(welcome)
    assert "v1:ob:role:developer" in choices(welcome)  # five roles: a list
    assert welcome["interactive"]["type"] == "list"
    (ask_level,) = await whatsapp.tap("v1:ob:role:developer", "Developer")
    assert "pengalaman kerjamu" in body_of(ask_level)
    (ask_time,) = await whatsapp.tap("v1:ob:level:junior", "1–3 tahun")
    assert "Jam berapa" in body_of(ask_time)
    (ask_zone,) = await whatsapp.say("07.00")
    assert "zona waktu" in body_of(ask_zone)
    (done,) = await whatsapp.say("WITA")
    assert "pukul 07.00 WITA" in body_of(done)
    (mode,) = await whatsapp.say("/mode user")
    assert "Mode user aktif" in body_of(mode)
    (question,) = await whatsapp.say("latihan")
    assert "Latihan · mode user · Developer" in body_of(question)
    answer = (
        "Waktu itu saya on-call saat API checkout lambat ketika promo. Tugas saya memulihkan "
        "layanan. Saya cek log, lalu rollback deploy terakhir. Hasilnya p95 latency turun "
        "dari 1,8 detik ke 400 ms dalam 15 menit."
    )
    (feedback,) = await whatsapp.say(answer)
    assert "Feedback jawabanmu · skor" in body_of(feedback)
    user = await whatsapp.user()
    assert user is not None
    assert (user.role, user.mode, user.timezone) == ("developer", "user", "Asia/Makassar")
    # Every message was marked read, with the typing indicator.
    assert len(whatsapp.fake.marked_read) >= 7
    assert all(mark.typing for mark in whatsapp.fake.marked_read)


async def test_media_gets_a_friendly_note(whatsapp: WhatsApp) -> None:
    fake = whatsapp.fake
    for message in (fake.image(PHONE), fake.audio(PHONE), fake.sticker(PHONE)):
        before = len(fake.sent_to(PHONE))
        assert await whatsapp.post(fake.payload(message)) == 200
        (note,) = (await fake.wait_for_sent(before + 1, PHONE))[before:]
        assert "membaca pesan teks" in body_of(note)
    before = len(fake.sent_to(PHONE))
    assert await whatsapp.post(fake.payload(fake.document(PHONE))) == 200
    (note,) = (await fake.wait_for_sent(before + 1, PHONE))[before:]
    assert "belum bisa membaca file" in body_of(note)


async def test_several_users_and_statuses_in_one_payload(whatsapp: WhatsApp) -> None:
    fake = whatsapp.fake
    (first,) = await whatsapp.say("bantuan")
    others = ["6281300000001", "6281300000002"]
    payload = fake.payload(
        fake.text_message(others[0], "tips"),
        fake.text_message(others[1], "bantuan"),
        fake.status(first["wamid"], "delivered"),
        fake.status(first["wamid"], "read"),
    )
    assert await whatsapp.post(payload) == 200
    (tip,) = await fake.wait_for_sent(1, others[0])
    assert "Tips interview" in body_of(tip)
    (help_text,) = await fake.wait_for_sent(1, others[1])
    assert "/latihan" in body_of(help_text)
    for _ in range(100):
        async with whatsapp.app.sessions() as session:
            row = await session.scalar(select(Delivery).where(Delivery.sent_ref == first["wamid"]))
        if row is not None and row.read_at is not None:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.delivered_at is not None and row.read_at is not None
    assert len(fake.sent_to(PHONE)) == 1  # statuses are not messages


@pytest.mark.parametrize("how", ["identical", "reserialized", "concurrent"])
async def test_a_duplicate_delivery_is_handled_once(whatsapp: WhatsApp, how: str) -> None:
    fake = whatsapp.fake
    payload = fake.text_payload(PHONE, "mode user")
    if how == "concurrent":
        statuses = await asyncio.gather(*(whatsapp.post(payload) for _ in range(5)))
    else:
        statuses = [
            await whatsapp.post(payload),
            await whatsapp.post(payload, reserialize=how == "reserialized"),
        ]
    assert all(status == 200 for status in statuses)
    await fake.wait_for_sent(1, PHONE)
    await asyncio.sleep(0.5)
    assert len(fake.sent_to(PHONE)) == 1


@pytest.mark.parametrize(
    "signature", [None, "sha256=" + "0" * 64, "sha1=0123456789abcdef0123456789abcdef01234567"]
)
async def test_a_bad_or_missing_signature_is_refused_and_nothing_happens(
    whatsapp: WhatsApp, signature: str | None
) -> None:
    status = await whatsapp.post(whatsapp.fake.text_payload(PHONE, "bantuan"), signature=signature)
    assert status in (401, 403)
    await asyncio.sleep(0.3)
    assert whatsapp.fake.sent() == []
    async with whatsapp.app.sessions() as session:
        assert list(await session.scalars(select(InboundUpdate))) == []


async def test_a_signed_body_that_is_not_json_gets_400(whatsapp: WhatsApp) -> None:
    assert await whatsapp.post(b'{"object": "whatsapp_business_account", "entry": [') == 400


async def test_indonesian_text_with_emoji_is_signed_over_the_raw_bytes(
    whatsapp: WhatsApp,
) -> None:
    (reply,) = await whatsapp.say("Halo kak 🙏 saya mau latihan interview, boleh?")
    assert body_of(reply)


async def test_a_user_with_only_a_business_scoped_id(whatsapp: WhatsApp) -> None:
    bsuid = "ID.1234567890abcdef"
    (reply,) = await whatsapp.say("bantuan", user=bsuid)
    assert "/latihan" in body_of(reply)
    sent = whatsapp.fake.sent_to(bsuid)[-1]
    assert sent.get("recipient") == bsuid and "to" not in sent
    assert await whatsapp.user(bsuid) is not None


async def test_a_phone_user_who_adopts_a_username_stays_one_user(whatsapp: WhatsApp) -> None:
    (mode,) = await whatsapp.say("mode user")
    assert "Mode user aktif" in body_of(mode)
    bsuid = "ID.9988776655aabbcc"
    whatsapp.fake.link_user(PHONE, bsuid)
    (tip,) = await whatsapp.say("tips")
    assert "mode user" in body_of(tip)  # the same user, still in user mode
    user = await whatsapp.user(bsuid)
    assert user is not None and user.alt_external_id == PHONE
    assert await whatsapp.user(PHONE) is None


async def test_a_database_outage_during_a_webhook_gets_a_non_2xx_answer(
    whatsapp: WhatsApp,
) -> None:
    async with whatsapp.app.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE inbound RENAME TO inbound_away"))
    try:
        status = await whatsapp.post(whatsapp.fake.text_payload(PHONE, "bantuan"))
    finally:
        async with whatsapp.app.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE inbound_away RENAME TO inbound"))
    assert not 200 <= status < 300
    assert whatsapp.fake.sent() == []


async def scheduled_tip(
    whatsapp: WhatsApp, clock: FakeClock, last_wrote: timedelta, fail: int | None = None
) -> None:
    """The user set a daily time long ago and last wrote `last_wrote` before 07.00 WIB;
    the tip's send fails with Graph error `fail`, if given."""
    await whatsapp.say("pengingat 07.00")
    due = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 07.00 WIB
    async with whatsapp.app.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.external_id == PHONE))
        assert user is not None
        user.last_active_at = due - last_wrote
    clock.now = due - timedelta(hours=1)
    await whatsapp.service.scheduler.plan_tick()
    if fail is not None:
        whatsapp.fake.fail_next(fail, times=2)
    clock.now = due
    await whatsapp.service.scheduler.dispatch_tick()


@pytest.fixture
async def whatsapp_on_clock(
    database_url: str, clock: FakeClock
) -> AsyncIterator[tuple[WhatsApp, FakeClock]]:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    async with running(database_url, clock) as whatsapp:
        yield whatsapp, clock


async def test_a_scheduled_tip_inside_the_window_is_free_text(
    whatsapp_on_clock: tuple[WhatsApp, FakeClock],
) -> None:
    whatsapp, clock = whatsapp_on_clock
    await scheduled_tip(whatsapp, clock, last_wrote=timedelta(hours=20))
    tip = whatsapp.fake.sent_to(PHONE)[-1]
    assert tip["type"] != "template"
    assert "Latihan harian" in body_of(tip)


async def test_a_scheduled_tip_outside_the_window_is_the_template(
    whatsapp_on_clock: tuple[WhatsApp, FakeClock],
) -> None:
    whatsapp, clock = whatsapp_on_clock
    await scheduled_tip(whatsapp, clock, last_wrote=timedelta(hours=30))
    sent = whatsapp.fake.sent_to(PHONE)[-1]
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "mulai_latihan"
    assert sent["template"]["language"]["code"] == "id"
    async with whatsapp.app.sessions() as session:
        statuses = list(
            await session.scalars(select(Delivery.status).where(Delivery.kind == "tip"))
        )
    assert "sent" in statuses
    # Tapping "Mulai latihan" opens the window and starts a practice question.
    message = whatsapp.fake.template_button(PHONE, "v1:latihan:next", "Mulai latihan")
    before = len(whatsapp.fake.sent_to(PHONE))
    assert await whatsapp.post(whatsapp.fake.payload(message)) == 200
    (question,) = (await whatsapp.fake.wait_for_sent(before + 1, PHONE))[before:]
    assert "Latihan · mode" in body_of(question)


async def test_an_undeliverable_status_marks_the_user_unreachable(whatsapp: WhatsApp) -> None:
    fake = whatsapp.fake
    (reply,) = await whatsapp.say("bantuan")
    assert (
        await whatsapp.post(fake.payload(fake.status(reply["wamid"], "failed", errors=[131026])))
        == 200
    )
    for _ in range(100):
        user = await whatsapp.user()
        if user is not None and user.blocked:
            break
        await asyncio.sleep(0.05)
    assert user is not None and user.blocked
    async with whatsapp.app.sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.sent_ref == reply["wamid"]))
    assert row is not None and (row.status, row.last_error) == ("cancelled", "unreachable")


async def test_a_window_closed_failure_that_comes_later_sends_the_template(
    whatsapp: WhatsApp,
) -> None:
    fake = whatsapp.fake
    (reply,) = await whatsapp.say("bantuan")
    failed = fake.status(reply["wamid"], "failed", errors=[131047])
    assert await whatsapp.post(fake.payload(failed)) == 200
    (template,) = (await fake.wait_for_sent(2, PHONE))[1:]
    assert template["type"] == "template"
    async with whatsapp.app.sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.sent_ref == reply["wamid"]))
    assert row is not None and (row.status, row.last_error) == ("failed", "window closed")


@pytest.mark.parametrize("code", [130429, 131056, 190])
async def test_a_refused_scheduled_message_keeps_its_row(
    whatsapp_on_clock: tuple[WhatsApp, FakeClock], code: int, caplog: pytest.LogCaptureFixture
) -> None:
    whatsapp, clock = whatsapp_on_clock
    await scheduled_tip(whatsapp, clock, last_wrote=timedelta(hours=2), fail=code)
    async with whatsapp.app.sessions() as session:
        tip = await session.scalar(
            select(Delivery).where(Delivery.kind == "tip", Delivery.due_at <= clock.now)
        )
    assert tip is not None
    assert tip.status == "pending" and tip.next_attempt_at is not None
    assert tip.next_attempt_at > clock.now  # backed off by us: Graph says nothing
    if code == 190:
        assert "WHATSAPP_ACCESS_TOKEN" in caplog.text
        assert whatsapp.fake.access_token not in caplog.text


async def test_telegram_and_whatsapp_from_one_process(database_url: str) -> None:
    from bot.channels.telegram.service import TelegramService
    from tests.fakes.telegram_api import FakeTelegram

    async with FakeWhatsApp() as fake, FakeTelegram() as telegram:
        settings = settings_for(fake, database_url)
        settings.telegram_bot_token = SecretStr(telegram.token)
        settings.telegram_api_url = telegram.base_url
        async with open_app(settings) as app:
            service = TelegramService(app, polling_timeout=1, companions=[WhatsAppService(app)])
            task = asyncio.create_task(service.run_polling(handle_signals=False))
            url = f"http://127.0.0.1:{settings.port}/webhook/whatsapp"
            try:
                await wait_until_serving(fake, url)
                status, _ = await fake.post_webhook(url, fake.text_payload(PHONE, "bantuan"))
                assert status == 200
                telegram.push_message(7001, "/bantuan")
                (on_whatsapp,) = await fake.wait_for_sent(1, PHONE)
                (on_telegram,) = await telegram.wait_for_sent(1, 7001)
            finally:
                await service.stop_polling()
                await asyncio.wait_for(task, 30)
    assert "/latihan" in body_of(on_whatsapp)
    assert "/latihan" in on_telegram["text"]


async def test_a_rejected_template_is_not_retried_blindly(
    whatsapp_on_clock: tuple[WhatsApp, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    whatsapp, clock = whatsapp_on_clock
    await scheduled_tip(whatsapp, clock, last_wrote=timedelta(hours=30), fail=132001)
    async with whatsapp.app.sessions() as session:
        tip = await session.scalar(
            select(Delivery).where(Delivery.kind == "tip", Delivery.due_at <= clock.now)
        )
    assert tip is not None and (tip.status, tip.last_error) == ("failed", "TemplateRejected")
    assert "mulai_latihan" in caplog.text  # the operator learns which template
