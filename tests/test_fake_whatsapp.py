"""The fake WhatsApp Cloud API behaves like Meta's, one respect per test.

Everything goes over real HTTP with aiohttp (no mocks); the Unix clock and the monotonic
clock of the rate limits are manual, so nothing here sleeps or depends on timing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.whatsapp_api import ERROR_TITLES, FakeWhatsApp, meta_json_bytes

Json = dict[str, Any]

PHONE = "6281234567890"
OTHER_PHONE = "6285711112222"
BSUID = "ID.1234567890abcdef"
VERIFY_TOKEN = "rahasia-verify"
DAY = 24 * 60 * 60


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def wall() -> ManualClock:
    """Unix time for timestamps and the 24-hour window (2026-05-28)."""
    return ManualClock(1_780_000_000.0)


@pytest.fixture
def ticks() -> ManualClock:
    """The monotonic clock of the rate limits."""
    return ManualClock(1_000.0)


@pytest.fixture
async def fake(wall: ManualClock, ticks: ManualClock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock=wall, monotonic=ticks) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    fake: FakeWhatsApp,
    body: Json,
    *,
    token: str | None = "default",
    url: str | None = None,
) -> tuple[int, Json]:
    """POSTs `body` the way our adapter does; returns (HTTP status, decoded JSON)."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {fake.access_token if token == 'default' else token}"
    async with http.post(url or fake.messages_url, json=body, headers=headers) as response:
        return response.status, await response.json()


def text(body: str, *, to: str = PHONE) -> Json:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def buttons(*titles: str, body: str = "Pilih babak latihan:", ids: list[str] | None = None) -> Json:
    button_ids = ids or [f"round:{i}" for i in range(len(titles))]
    return {
        "messaging_product": "whatsapp",
        "to": PHONE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_id, "title": title}}
                    for button_id, title in zip(button_ids, titles, strict=True)
                ]
            },
        },
    }


def list_message(sections: list[Json], *, button: str = "Pilih posisi") -> Json:
    return {
        "messaging_product": "whatsapp",
        "to": PHONE,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Posisi apa yang kamu lamar?"},
            "action": {"button": button, "sections": sections},
        },
    }


def rows(count: int, start: int = 0, **overrides: str) -> list[Json]:
    return [
        {"id": f"pos:{i}", "title": f"Posisi {i}", **overrides} for i in range(start, start + count)
    ]


def template(name: str = "mulai_latihan", *, to: str = PHONE) -> Json:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "id"}},
    }


def graph_code(answer: Json) -> int:
    code: int = answer["error"]["code"]
    return code


# --------------------------------------------------------------------------- sending


async def test_text_send_answers_contacts_and_a_wamid(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)

    first = await post(http, fake, text("Halo Rina 👋"))
    second = await post(http, fake, text("Siap latihan?"))

    status, answer = first
    assert status == 200
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": PHONE, "wa_id": PHONE}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert second[1]["messages"][0]["id"] != wamid
    assert [m["wamid"] for m in fake.sent_to(PHONE)] == [wamid, second[1]["messages"][0]["id"]]
    assert fake.sent()[0]["text"] == {"body": "Halo Rina 👋"}
    assert fake.sent_texts() == ["Halo Rina 👋", "Siap latihan?"]
    assert [(c.method, c.path) for c in fake.calls] == [("POST", "/v21.0/1098765432/messages")] * 2
    assert fake.pending_statuses() == []  # the window was open


async def test_send_to_a_bsuid_answers_user_id(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(BSUID)
    body = text("Halo!")
    del body["to"]
    body["recipient"] = BSUID

    status, answer = await post(http, fake, body)

    assert status == 200
    assert answer["contacts"] == [{"input": BSUID, "user_id": BSUID}]
    assert len(fake.sent_to(BSUID)) == 1


@pytest.mark.parametrize("token", [None, "EAAwrong", ""])
async def test_bad_or_missing_token_is_401_code_190(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, token: str | None
) -> None:
    status, answer = await post(http, fake, text("Halo"), token=token)

    assert status == 401
    error = answer["error"]
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert error["fbtrace_id"]
    assert fake.sent() == []
    assert fake.errors == [(190, error["message"])]


@pytest.mark.parametrize("path", ["/v1.0/1098765432/messages", "/v21.0/999/messages"])
async def test_unknown_version_or_phone_number_id_is_code_100(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, path: str
) -> None:
    status, answer = await post(http, fake, text("Halo"), url=fake.base_url + path)

    assert (status, graph_code(answer)) == (400, 100)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"messaging_product": None}, id="no messaging_product"),
        pytest.param({"to": None}, id="neither to nor recipient"),
        pytest.param({"recipient": BSUID}, id="both to and recipient"),
    ],
)
async def test_addressing_errors_are_code_100(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, change: Json
) -> None:
    body = text("Halo")
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value

    status, answer = await post(http, fake, body)

    assert (status, graph_code(answer)) == (400, 100)
    assert answer["error"]["message"].startswith("(#100) ")


@pytest.mark.parametrize(
    ("body", "ok"),
    [("a" * 4096, True), ("a" * 4097, False), ("", False), ("😀" * 4096, True)],
    ids=["4096", "4097", "empty", "4096 emoji"],
)
async def test_text_body_limit(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, body: str, ok: bool
) -> None:
    fake.user_wrote(PHONE)

    status, answer = await post(http, fake, text(body))

    if ok:
        assert status == 200
    else:
        assert status == 400
        # An empty body counts as the parameter missing; an over-long one as invalid.
        assert graph_code(answer) == (100 if body == "" else 131009)


async def test_reply_buttons_at_the_limits_are_accepted(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    body = buttons("a" * 20, "b" * 20, "c" * 20, body="x" * 1024, ids=["1" * 256, "2", "3"])

    status, _ = await post(http, fake, body)

    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(buttons("HR", "User", "Bebas", "Lagi"), id="4 buttons"),
        pytest.param(buttons("a" * 21), id="title 21 chars"),
        pytest.param(buttons("HR", body="x" * 1025), id="body 1025 chars"),
        pytest.param(buttons("HR", ids=["x" * 257]), id="id 257 chars"),
        pytest.param(buttons("HR", "User", ids=["same", "same"]), id="duplicate ids"),
        pytest.param(buttons("Sama", "Sama"), id="duplicate titles"),
    ],
)
async def test_reply_button_violations_are_131009(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, body: Json
) -> None:
    fake.user_wrote(PHONE)

    status, answer = await post(http, fake, body)

    assert status == 400
    error = answer["error"]
    assert (error["code"], error["message"]) == (131009, "(#131009) Parameter value is not valid")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"]


async def test_list_with_ten_rows_over_two_sections_is_accepted(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    sections = [
        {"title": "Teknologi", "rows": rows(5, description="d" * 72)},
        {"title": "Keuangan", "rows": rows(5, start=5)},
    ]

    status, _ = await post(http, fake, list_message(sections, button="b" * 20))

    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            list_message([{"title": "A", "rows": rows(6)}, {"title": "B", "rows": rows(5, 6)}]),
            id="11 rows in total",
        ),
        pytest.param(list_message([{"rows": rows(1, title="t" * 25)}]), id="row title 25"),
        pytest.param(list_message([{"rows": rows(1, description="d" * 73)}]), id="description 73"),
        pytest.param(list_message([{"rows": rows(1, id="i" * 201)}]), id="row id 201"),
        pytest.param(list_message([{"rows": rows(1)}], button="b" * 21), id="button label 21"),
    ],
)
async def test_list_violations_are_131009(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, body: Json
) -> None:
    fake.user_wrote(PHONE)

    status, answer = await post(http, fake, body)

    assert (status, graph_code(answer)) == (400, 131009)


async def test_unknown_template_is_404_code_132001(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    status, answer = await post(http, fake, template("tidak_ada"))

    assert status == 404
    assert graph_code(answer) == 132001
    assert answer["error"]["message"] == "(#132001) Template name does not exist in the translation"
    assert fake.sent() == []


async def test_template_reaches_a_closed_window(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    # Templates are how a business re-opens a conversation, so the window does not apply.
    status, _ = await post(http, fake, template("mulai_latihan"))

    assert status == 200
    assert fake.sent_texts(PHONE) == ["template:mulai_latihan"]
    assert fake.pending_statuses() == []


# --------------------------------------------------------------------------- the window


async def test_closed_window_accepts_then_queues_a_failed_status(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, wall: ManualClock
) -> None:
    status, answer = await post(http, fake, text("Sudah lama ya"))

    assert status == 200  # Meta accepts it and reports the failure by webhook later
    wamid = answer["messages"][0]["id"]
    (failed,) = fake.pending_statuses()
    assert failed["id"] == wamid
    assert failed["status"] == "failed"
    assert failed["recipient_id"] == PHONE
    assert failed["timestamp"] == str(int(wall.now))
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message"
    assert fake.pending_statuses() == []  # handed over once

    payload = fake.payload(failed)
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["statuses"] == [failed]
    assert "contacts" not in value and "messages" not in value


async def test_window_opens_on_inbound_and_closes_after_24_hours(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, wall: ManualClock
) -> None:
    fake.text_message(PHONE, "Halo")
    wall.advance(DAY)  # exactly 24 h later the window is still open
    assert (await post(http, fake, text("Masih bisa")))[0] == 200
    assert fake.pending_statuses() == []

    wall.advance(1)
    assert (await post(http, fake, text("Sudah tidak")))[0] == 200
    assert [s["errors"][0]["code"] for s in fake.pending_statuses()] == [131047]


async def test_closed_window_can_fail_synchronously(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.window_check = "error"

    status, answer = await post(http, fake, text("Halo"))

    assert (status, graph_code(answer)) == (400, 131047)
    assert answer["error"]["message"] == "(#131047) Re-engagement message"
    assert fake.sent() == [] and fake.pending_statuses() == []


async def test_linked_user_shares_one_window(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.link_user(PHONE, BSUID)
    fake.text_message(PHONE, "Halo")
    body = text("Halo lagi")
    del body["to"]
    body["recipient"] = BSUID

    assert (await post(http, fake, body))[0] == 200
    assert fake.pending_statuses() == []
    assert len(fake.sent_to(PHONE)) == 1  # the same person under the other id


# --------------------------------------------------------------------------- limits


async def test_pair_limit_is_off_by_default_and_131056_when_on(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, ticks: ManualClock
) -> None:
    fake.user_wrote(PHONE)
    fake.user_wrote(OTHER_PHONE)
    assert (await post(http, fake, text("1")))[0] == 200
    assert (await post(http, fake, text("2")))[0] == 200

    fake.pair_interval = 6
    status, answer = await post(http, fake, text("3"))
    assert (status, graph_code(answer)) == (400, 131056)
    assert "pair rate limit hit" in answer["error"]["message"]
    assert "retry_after" not in json.dumps(answer)
    assert (await post(http, fake, text("lain", to=OTHER_PHONE)))[0] == 200  # per user

    ticks.advance(6)
    assert (await post(http, fake, text("4")))[0] == 200


async def test_throughput_limit_is_130429(
    wall: ManualClock, ticks: ManualClock, http: aiohttp.ClientSession
) -> None:
    async with FakeWhatsApp(clock=wall, monotonic=ticks, messages_per_second=2) as fake:
        for user in ("6281100000001", "6281100000002", "6281100000003"):
            fake.user_wrote(user)
        assert (await post(http, fake, text("a", to="6281100000001")))[0] == 200
        assert (await post(http, fake, text("b", to="6281100000002")))[0] == 200

        status, answer = await post(http, fake, text("c", to="6281100000003"))
        assert graph_code(answer) == 130429
        assert status == ERROR_TITLES[130429][1]
        assert answer["error"]["message"] == "(#130429) Rate limit hit"

        ticks.advance(1)
        assert (await post(http, fake, text("c", to="6281100000003")))[0] == 200


# --------------------------------------------------------------------------- scripts


async def test_fail_next_for_one_user_and_times(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    fake.user_wrote(OTHER_PHONE)
    fake.fail_next(131026, times=2, to=PHONE)

    other = await post(http, fake, text("x", to=OTHER_PHONE))
    first = await post(http, fake, text("x"))
    second = await post(http, fake, text("x"))
    third = await post(http, fake, text("x"))

    assert other[0] == 200
    assert [graph_code(first[1]), graph_code(second[1])] == [131026, 131026]
    assert first[1]["error"]["message"] == "(#131026) Message undeliverable"
    assert third[0] == 200
    assert [code for code, _ in fake.errors] == [131026, 131026]


async def test_fail_next_later_accepts_then_queues_the_error(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    fake.fail_next(131026, later=True)

    status, answer = await post(http, fake, text("Halo"))

    assert status == 200
    (failed,) = fake.pending_statuses()
    assert failed["id"] == answer["messages"][0]["id"]
    assert failed["errors"][0]["code"] == 131026
    assert fake.errors == []


@pytest.mark.parametrize(("code", "http_status"), [(190, 401), (131000, 500), (132015, 400)])
async def test_fail_next_sync_codes(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, code: int, http_status: int
) -> None:
    fake.user_wrote(PHONE)
    fake.fail_next(code)

    status, answer = await post(http, fake, text("Halo"))

    assert (status, graph_code(answer)) == (http_status, code)
    assert answer["error"]["type"] == "OAuthException"


async def test_fail_next_html_answers_a_502_page(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    fake.fail_next_html()
    headers = {"Authorization": f"Bearer {fake.access_token}"}

    async with http.post(fake.messages_url, json=text("Halo"), headers=headers) as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert "502 Bad Gateway" in await response.text()
    assert (await post(http, fake, text("Halo")))[0] == 200


async def test_mark_read_with_typing_indicator(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    inbound = fake.text_message(PHONE, "Halo")
    body: Json = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound["id"]}

    plain = await post(http, fake, body)
    typing = await post(http, fake, {**body, "typing_indicator": {"type": "text"}})

    assert plain == (200, {"success": True})
    assert typing == (200, {"success": True})
    assert [(r.message_id, r.typing) for r in fake.marked_read] == [
        (inbound["id"], False),
        (inbound["id"], True),
    ]
    assert fake.sent() == []  # not a message
    assert len(await fake.wait_for_marked_read(2, timeout=0.1)) == 2


async def test_wait_for_sent_times_out_with_a_description(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    await post(http, fake, text("satu"))

    assert len(await fake.wait_for_sent(1, user=PHONE, timeout=0.1)) == 1
    with pytest.raises(AssertionError) as raised:
        await fake.wait_for_sent(2, user=PHONE, timeout=0.1)
    assert "expected 2 sent message(s) to 6281234567890, got 1" in str(raised.value)
    assert "'satu'" in str(raised.value)


# --------------------------------------------------------------------------- inbound


async def test_inbound_payload_has_meta_shape(fake: FakeWhatsApp, wall: ManualClock) -> None:
    message = fake.text_message(PHONE, "Halo, saya mau latihan", name="Rina")
    payload = fake.payload(message)

    assert payload["object"] == "whatsapp_business_account"
    (entry,) = payload["entry"]
    assert entry["id"] == fake.waba_id
    (change,) = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["metadata"] == {
        "display_phone_number": "15550001111",
        "phone_number_id": "1098765432",
    }
    assert value["contacts"] == [{"profile": {"name": "Rina"}, "wa_id": PHONE}]
    assert value["messages"] == [message]
    assert message["from"] == PHONE
    assert message["id"].startswith("wamid.")
    assert message["timestamp"] == str(int(wall.now))
    assert message["text"] == {"body": "Halo, saya mau latihan"}
    assert fake.window_open(PHONE)


async def test_replies_point_at_the_last_sent_message(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(PHONE)
    _, answer = await post(http, fake, buttons("HR", "User"))
    wamid = answer["messages"][0]["id"]

    button = fake.button_reply(PHONE, "round:0", "HR")
    row = fake.list_reply(PHONE, "pos:1", "Posisi 1", "Analis data")
    quick = fake.template_button(PHONE, "mulai", "Mulai")

    assert button["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "round:0", "title": "HR"},
    }
    assert row["interactive"]["list_reply"] == {
        "id": "pos:1",
        "title": "Posisi 1",
        "description": "Analis data",
    }
    assert (quick["type"], quick["button"]) == ("button", {"payload": "mulai", "text": "Mulai"})
    assert {m["context"]["id"] for m in (button, row, quick)} == {wamid}


async def test_media_reaction_and_unsupported_shapes(fake: FakeWhatsApp) -> None:
    voice = fake.audio(PHONE)
    cv = fake.document(PHONE, "CV Rina.pdf")
    where = fake.location(PHONE, place="Monas")
    like = fake.reaction(PHONE, "wamid.abc", "👍")
    odd = fake.unsupported(PHONE)

    assert voice["audio"]["voice"] is True and voice["audio"]["mime_type"].startswith("audio/ogg")
    assert cv["document"]["filename"] == "CV Rina.pdf"
    assert fake.image(PHONE, caption="ijazah")["image"]["caption"] == "ijazah"
    assert fake.sticker(PHONE)["sticker"]["mime_type"] == "image/webp"
    assert where["location"]["name"] == "Monas"
    assert like["reaction"] == {"message_id": "wamid.abc", "emoji": "👍"}
    assert odd["errors"][0]["code"] == 131051
    payload = fake.payload(voice, cv, like)
    assert len(payload["entry"][0]["changes"][0]["value"]["contacts"]) == 1


async def test_bsuid_only_and_linked_users(fake: FakeWhatsApp) -> None:
    alone = fake.text_message(BSUID, "Halo", name="Dewi")
    assert "from" not in alone and alone["from_user_id"] == BSUID
    assert fake.payload(alone)["entry"][0]["changes"][0]["value"]["contacts"] == [
        {"profile": {"name": "Dewi"}, "user_id": BSUID}
    ]

    fake.link_user(PHONE, "ID.fedcba0987654321", username="rina.kerja")
    linked = fake.text_message(PHONE, "Halo")
    assert (linked["from"], linked["from_user_id"]) == (PHONE, "ID.fedcba0987654321")
    assert fake.contact(PHONE) == {
        "profile": {"name": "Rina", "username": "rina.kerja"},
        "wa_id": PHONE,
        "user_id": "ID.fedcba0987654321",
    }
    assert fake.status("wamid.x", "read", BSUID)["recipient_user_id"] == BSUID


# --------------------------------------------------------------------------- delivery


@dataclass
class Receiver:
    """A minimal correct webhook endpoint: checks the signature over the raw bytes."""

    app_secret: str
    raw_bodies: list[bytes] = field(default_factory=list)
    url: str = ""

    async def handle_post(self, request: web.Request) -> web.Response:
        raw = await request.read()
        expected = "sha256=" + hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401, text="bad signature")
        self.raw_bodies.append(raw)
        return web.Response(text="EVENT_RECEIVED")

    async def handle_get(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
            return web.Response(text=query.get("hub.challenge", ""))
        return web.Response(status=403, text="forbidden")


@pytest.fixture
async def receiver(fake: FakeWhatsApp) -> AsyncIterator[Receiver]:
    receiver = Receiver(fake.app_secret)
    app = web.Application()
    app.router.add_post("/webhook", receiver.handle_post)
    app.router.add_get("/webhook", receiver.handle_get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    yield receiver
    await runner.cleanup()


async def test_signature_covers_the_raw_bytes_of_non_ascii_text(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    payload = fake.text_payload(PHONE, "Saya gugup 😅 — bisa bantu? https://contoh.id/cv")
    raw = fake.encode(payload)

    # Meta escapes non-ASCII and "/", so the bytes are not what json.dumps gives back.
    assert b"\\ud83d\\ude05" in raw and b"\\u2014" in raw and b"https:\\/\\/" in raw
    assert json.loads(raw) == payload
    assert raw == meta_json_bytes(payload)
    digest = hmac.new(b"test-app-secret", raw, hashlib.sha256).hexdigest()
    assert fake.sign(raw) == f"sha256={digest}"
    assert fake.sign(json.dumps(json.loads(raw)).encode()) != fake.sign(raw)

    assert await fake.post_webhook(receiver.url, payload) == (200, "EVENT_RECEIVED")
    assert receiver.raw_bodies == [raw]


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ids=["missing", "wrong", "sha1"],
)
async def test_bad_signatures_are_sent_verbatim(
    fake: FakeWhatsApp, receiver: Receiver, signature: str | None
) -> None:
    status, _ = await fake.post_webhook(
        receiver.url, fake.text_payload(PHONE, "Halo"), signature=signature
    )

    assert status == 401
    assert receiver.raw_bodies == []


async def test_raw_bytes_are_posted_exactly(fake: FakeWhatsApp, receiver: Receiver) -> None:
    raw = b'{"object":"whatsapp_business_account","entry":[]}'

    assert (await fake.post_webhook(receiver.url, raw))[0] == 200
    assert receiver.raw_bodies == [raw]


async def test_reserialize_keeps_content_but_changes_bytes(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    payload = fake.text_payload(PHONE, "Terima kasih 🙏")

    await fake.post_webhook(receiver.url, payload)
    await fake.post_webhook(receiver.url, payload, reserialize=True)

    first, again = receiver.raw_bodies
    assert first != again  # still correctly signed: the receiver accepted both
    assert json.loads(first) == json.loads(again) == payload


async def test_verify_webhook_handshake(fake: FakeWhatsApp, receiver: Receiver) -> None:
    assert await fake.verify_webhook(receiver.url, VERIFY_TOKEN) == (200, "1158201444")
    assert (await fake.verify_webhook(receiver.url, "salah"))[0] == 403
