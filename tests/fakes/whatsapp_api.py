"""A fake WhatsApp Cloud API (Meta Graph API) server for tests.

`FakeWhatsApp` is a small aiohttp web application on 127.0.0.1 (an ephemeral port) that
speaks the Cloud API wire format closely enough for our own aiohttp adapter to talk to it
without knowing it is a fake:

    async with FakeWhatsApp() as fake:
        # point the adapter at fake.base_url, with fake.access_token / fake.app_secret
        payload = fake.text_payload("6281234567890", "Halo, saya mau latihan")
        status, _ = await fake.post_webhook(f"{bot_url}/whatsapp/webhook", payload)
        sent = await fake.wait_for_sent(1, user="6281234567890")

Outbound: the bot calls `POST {base_url}/{version}/{phone_number_id}/messages` with
`Authorization: Bearer {access_token}` and a JSON body (`messaging_product: "whatsapp"`).
A send answers `{"messaging_product": "whatsapp", "contacts": [...], "messages":
[{"id": "wamid...."}]}`; a mark-read (`"status": "read"`) answers `{"success": true}`.
Errors are Graph errors: `{"error": {"message", "type", "code", "error_data",
"fbtrace_id"}}` with a 4xx/5xx HTTP status. Graph errors never carry a retry-after.

Inbound: `text_message`, `button_reply`, `list_reply`, `template_button`, `image`,
`audio`, `document`, `sticker`, `location`, `reaction`, `unsupported` build the message
dicts Meta puts in `value.messages`, and `status` builds a `value.statuses` entry;
`payload(*items)` wraps them into the webhook body (`object: whatsapp_business_account`).
`post_webhook` delivers the bytes signed with `X-Hub-Signature-256`, `verify_webhook`
does the GET subscription handshake.

Real-server behaviour reproduced because it catches real bugs:

* The 24-hour customer service window. Building an inbound message (or `user_wrote`)
  opens the user's window. A free-form send (anything but a template) to a user whose
  window is closed is still ACCEPTED (200 and a wamid), and Meta reports the failure
  later in a `failed` status webhook with error 131047; `pending_statuses()` hands those
  statuses to the test to deliver. `window_check="error"` makes it a synchronous 400
  instead, `"off"` disables the check.
* Throughput (`messages_per_second`, 130429) and the per-user pair rate limit
  (`pair_interval`, 131056), both measured on the `monotonic` clock a test may replace.
* Field limits of text, reply-button and list messages (131009), missing parameters
  (100), unknown template names (404, 132001), a bad token (401, 190).
* Webhook bodies are serialized the way Meta does it: compact, non-ASCII escaped as
  `\\uXXXX` and `/` escaped as `\\/`. A bot that re-dumps the parsed JSON to check the
  signature therefore fails, exactly as it would in production.

Users are identified by a string: all digits is a phone number (`wa_id`); anything else
is a business-scoped user id (BSUID, e.g. "ID.1234567890abcdef"), a user the bot knows
only by username. `link_user(phone, user_id)` gives a phone user a BSUID as well; the
webhook then carries both, as Meta does since the 2026 username rollout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

import aiohttp
from aiohttp import web

__all__ = [
    "ERROR_TITLES",
    "Call",
    "ErrorRecord",
    "FakeWhatsApp",
    "MarkedRead",
    "meta_json_bytes",
]

Json = dict[str, Any]

SECONDS_PER_WINDOW = 24 * 60 * 60

MAX_TEXT_BODY = 4096
MAX_BUTTON_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_ID = 256
MAX_BUTTON_TITLE = 20
MAX_LIST_BODY = 4096
MAX_LIST_BUTTON = 20
MAX_LIST_SECTIONS = 10
MAX_LIST_ROWS = 10
MAX_SECTION_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60

ERROR_DOCS = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
INVALID_TOKEN = "Invalid OAuth access token - Cannot parse access token"

# Titles Meta uses for its error codes (the `message` is "(#code) title" in a Graph
# error and plain "title" in a failed status), the HTTP status of the synchronous
# error, and the `error_data.details` sentence.
ERROR_TITLES: dict[int, tuple[str, int, str]] = {
    100: ("Invalid parameter", 400, "Invalid parameter"),
    190: (INVALID_TOKEN, 401, ""),
    368: (
        "Temporarily blocked for policies violations",
        400,
        "The WhatsApp Business Account is restricted from messaging users.",
    ),
    130429: ("Rate limit hit", 429, "Cloud API message throughput has been reached."),
    130472: (
        "User's number is part of an experiment",
        400,
        "Failed to send message because this user's phone number is part of an experiment",
    ),
    131000: ("Something went wrong", 500, "Something went wrong"),
    131005: ("Access denied", 403, "Permission is either not granted or has been removed."),
    131008: ("Required parameter is missing", 400, "A required parameter is missing."),
    131009: ("Parameter value is not valid", 400, "Parameter value is not valid"),
    131026: (
        "Message undeliverable",
        400,
        "Message Undeliverable.",
    ),
    131031: ("Account has been locked", 400, "The business account has been locked."),
    131047: (
        "Re-engagement message",
        400,
        "Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number.",
    ),
    131048: (
        "Spam rate limit hit",
        400,
        "Message failed to send because there are restrictions on how many messages "
        "can be sent from this phone number.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        400,
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131051: ("Unsupported message type", 400, "Message type is currently not supported."),
    131052: ("Media download error", 400, "Unable to download the media sent by the user."),
    131053: ("Media upload error", 400, "Unable to upload the media used in the message."),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        400,
        "Message failed to send because there were too many messages sent from this "
        "phone number to the same phone number in a short period of time.",
    ),
    132000: (
        "Number of parameters does not match the expected number of params",
        400,
        "The number of variable parameter values does not match the template.",
    ),
    132001: (
        "Template name does not exist in the translation",
        404,
        "The template does not exist in the specified language.",
    ),
    132005: ("Translated text too long", 400, "Translated text is too long."),
    132007: (
        "Template Format Character Policy Violated",
        400,
        "Template content violates a WhatsApp policy.",
    ),
    132012: (
        "Parameter format does not match format in the created template",
        400,
        "Variable parameter values formatted incorrectly.",
    ),
    132015: ("Template is Paused", 400, "The template is paused due to low quality."),
    132016: ("Template is Disabled", 400, "The template has been permanently disabled."),
    133010: ("Phone number not registered", 400, "The phone number is not registered."),
}

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

_FREE_FORM_MEDIA = frozenset(
    {"image", "audio", "video", "document", "sticker", "location", "contacts", "reaction"}
)


class Call(NamedTuple):
    """One request the fake received (successful or not)."""

    method: str
    path: str
    body: Json  # decoded JSON body ({} when it was not a JSON object)
    at: float  # time.monotonic() on arrival (the real one, for pacing assertions)


class ErrorRecord(NamedTuple):
    """A Graph error the fake answered with: compares equal to `(code, message)`."""

    code: int
    message: str


@dataclass(frozen=True)
class MarkedRead:
    """A successful mark-as-read call; `typing` is True when a typing indicator was on."""

    message_id: str
    typing: bool
    at: float  # time.monotonic()


class _GraphError(Exception):
    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        details: str | None = None,
        http_status: int | None = None,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        html: bool = False,
    ) -> None:
        title, default_status, default_details = ERROR_TITLES.get(
            code, (f"Error {code}", 400, f"Error {code}")
        )
        if message is None:
            message = title if code == 190 else f"(#{code}) {title}"
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = default_details if details is None else details
        self.http_status = default_status if http_status is None else http_status
        self.error_type = error_type
        self.subcode = subcode
        self.html = html

    def response(self) -> web.Response:
        if self.html:
            return web.Response(
                status=self.http_status, text=self.message, content_type="text/html"
            )
        error: Json = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = _fbtrace_id()
        return web.json_response({"error": error}, status=self.http_status)


def _missing(name: str) -> _GraphError:
    # Graph's wording for an absent required parameter; it has no error_data.
    return _GraphError(100, f"(#100) The parameter {name} is required.", details="")


def _invalid(details: str) -> _GraphError:
    return _GraphError(131009, details=details)


@dataclass
class _ScriptedFailure:
    code: int
    times: int
    to: str | None  # None: a send to anyone
    http_status: int | None
    later: bool
    message: str | None
    details: str | None
    html: bool = False


@dataclass
class _Sender:
    phone: str | None
    user_id: str | None


def meta_json_bytes(payload: Json) -> bytes:
    """`payload` serialized the way Meta sends webhook bodies: compact separators,
    non-ASCII as `\\uXXXX` escapes (emoji as surrogate pairs) and `/` as `\\/`."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    # "/" only ever occurs inside JSON strings, so escaping it textually is safe.
    return text.replace("/", "\\/").encode("ascii")


def _fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def _is_phone(user: str) -> bool:
    return user.isdigit()


class FakeWhatsApp:
    """A scriptable, observable WhatsApp Cloud API server on 127.0.0.1.

    Scripting: `fail_next`, `fail_next_html`, `user_wrote`, `link_user`, `templates`
    (approved template names), `messages_per_second`, `pair_interval`, `window_check`,
    `delay` (seconds to hold every answer).

    Observing: `calls`, `sent()`, `sent_to()`, `errors`, `marked_read`, `wait_for_sent()`,
    `wait_for_marked_read()`, `describe()`, `pending_statuses()`.

    Inbound: the message builders, `status`, `payload`, `sign`, `post_webhook`,
    `verify_webhook`.
    """

    def __init__(
        self,
        access_token: str = "EAAtest-token",
        phone_number_id: str = "1098765432",
        app_secret: str = "test-app-secret",
        version: str = "v21.0",
        clock: Callable[[], float] = time.time,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        waba_id: str = "102290129340398",
        display_phone_number: str = "15550001111",
        templates: Iterable[str] = ("mulai_latihan",),
        messages_per_second: int = 80,
        pair_interval: float = 0.0,
        window_check: Literal["status", "error", "off"] = "status",
    ) -> None:
        """`clock` gives the Unix time of webhook timestamps and of the 24-hour window;
        `monotonic` drives the rate limits (pass a manual clock to test them without
        sleeping). `pair_interval` seconds must pass between two messages to the same
        user (0 = no pair limit). `window_check`: "status" (Meta's behaviour: accept, then
        queue a failed status), "error" (a synchronous 400 131047) or "off"."""
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.version = version
        self.waba_id = waba_id
        self.display_phone_number = display_phone_number
        self.templates: set[str] = set(templates)
        self.messages_per_second = messages_per_second
        self.pair_interval = pair_interval
        self.window_check: Literal["status", "error", "off"] = window_check
        self.delay = 0.0
        self.base_url = ""

        self.calls: list[Call] = []
        self.errors: list[ErrorRecord] = []
        self.marked_read: list[MarkedRead] = []

        self._clock = clock
        self._monotonic = monotonic
        self._sent: list[Json] = []
        self._pending_statuses: list[Json] = []
        self._failures: deque[_ScriptedFailure] = deque()
        self._last_inbound: dict[str, float] = {}  # person -> Unix time of last message
        self._last_sent: dict[str, float] = {}  # person -> monotonic time, for 131056
        self._send_times: deque[float] = deque()  # monotonic times, for 130429
        self._bsuid_of: dict[str, str] = {}
        self._phone_of: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._usernames: dict[str, str] = {}
        self._wamid_counter = itertools.count(1)
        self._media_counter = itertools.count(1)
        self._output_changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Starts listening on 127.0.0.1 (an ephemeral port) and sets `base_url`."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(
            app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def messages_url(self) -> str:
        """The full URL the bot posts sends and mark-reads to."""
        return f"{self.base_url}/{self.version}/{self.phone_number_id}/messages"

    # ------------------------------------------------------------------ scripting

    def link_user(self, phone: str, user_id: str, *, username: str | None = None) -> None:
        """Gives the phone user `phone` the BSUID `user_id` (and optionally a username):
        their webhooks then carry both ids, and sends to either id reach the same person
        (one window, one pair limit)."""
        self._bsuid_of[phone] = user_id
        self._phone_of[user_id] = phone
        if username is not None:
            self._usernames[self._person(phone)] = username
        # A window opened under the BSUID alone stays open for the linked person.
        if user_id in self._last_inbound:
            written = self._last_inbound.pop(user_id)
            self._last_inbound[phone] = max(written, self._last_inbound.get(phone, written))
        if user_id in self._names:
            self._names.setdefault(phone, self._names.pop(user_id))
        if user_id in self._last_sent:
            self._last_sent.setdefault(phone, self._last_sent.pop(user_id))

    def user_wrote(self, user: str, at: float | None = None) -> None:
        """Records that `user` messaged the business at Unix time `at` (default: now on
        `clock`), opening their 24-hour customer service window. The message builders
        call this for you."""
        self._last_inbound[self._person(user)] = self._clock() if at is None else at

    def window_open(self, user: str) -> bool:
        """Whether a free-form message to `user` would be delivered right now."""
        last = self._last_inbound.get(self._person(user))
        return last is not None and self._clock() - last <= SECONDS_PER_WINDOW

    def fail_next(
        self,
        code: int,
        *,
        times: int = 1,
        to: str | None = None,
        http_status: int | None = None,
        later: bool = False,
        message: str | None = None,
        details: str | None = None,
    ) -> None:
        """The next `times` sends (to user `to`, if given; by phone or BSUID) fail with
        Graph error `code`: 131047, 131026, 130429, 131056, 190, 132000..132016, 131000 ...
        (see `ERROR_TITLES` for the message, HTTP status and details used; `message`,
        `details` and `http_status` override them).

        Synchronously, the answer is the Graph error JSON. With `later=True` the send is
        accepted (200 and a wamid, recorded in `sent()`) and a `failed` status carrying
        the error is queued for `pending_statuses()`, as Meta does for 131026 and
        131047. Mark-read calls are never affected. Scripts run in the order given; one
        for another user waits for its own user's send."""
        self._failures.append(
            _ScriptedFailure(code, times, to, http_status, later, message, details)
        )

    def fail_next_html(self, status: int = 502, *, times: int = 1, to: str | None = None) -> None:
        """The next `times` requests (sends to `to` only, if given; otherwise any request,
        mark-reads too) get an nginx-style HTML error page with HTTP `status`, the way a
        proxy in front of graph.facebook.com answers when it cannot reach it."""
        page = BAD_GATEWAY_HTML.replace("502 Bad Gateway", f"{status} Bad Gateway")
        self._failures.append(
            _ScriptedFailure(status, times, to, status, False, page, None, html=True)
        )

    # ------------------------------------------------------------------ observing

    def sent(self) -> list[Json]:
        """Decoded bodies of every accepted send (HTTP 200 with a wamid), in order, each
        with the assigned id under `"wamid"`. Includes sends Meta accepted but reports
        as failed later (closed window, `fail_next(..., later=True)`)."""
        return [dict(m) for m in self._sent]

    def sent_to(self, user: str) -> list[Json]:
        """Accepted sends to `user`, addressed by phone (`to`) or BSUID (`recipient`)
        (a linked user's sends under either id count)."""
        person = self._person(user)
        return [m for m in self.sent() if self._person(_recipient_of(m)) == person]

    def sent_texts(self, user: str | None = None) -> list[str]:
        """The visible text of each accepted send: `text.body`, an interactive message's
        `body.text`, or `template:<name>`."""
        messages = self.sent() if user is None else self.sent_to(user)
        return [_visible_text(m) for m in messages]

    def pending_statuses(self) -> list[Json]:
        """Returns and clears the queued `failed` status objects (from closed windows and
        `fail_next(..., later=True)`); deliver them with `post_webhook(url,
        fake.payload(*statuses))`."""
        statuses, self._pending_statuses = self._pending_statuses, []
        return statuses

    async def wait_for_sent(
        self,
        count: int,
        user: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[Json]:
        """Waits until at least `count` sends were accepted (to `user`, if given) and
        returns all of them; AssertionError with `describe()` on timeout."""

        def current() -> list[Json]:
            return self.sent() if user is None else self.sent_to(user)

        where = "" if user is None else f" to {user}"
        await self._wait_until(
            lambda: len(current()) >= count,
            timeout,
            lambda: f"expected {count} sent message(s){where}, got {len(current())}",
        )
        return current()

    async def wait_for_marked_read(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[MarkedRead]:
        """Waits until at least `count` mark-read calls succeeded; returns them."""
        await self._wait_until(
            lambda: len(self.marked_read) >= count,
            timeout,
            lambda: f"expected {count} mark-read call(s), got {len(self.marked_read)}",
        )
        return list(self.marked_read)

    async def _wait_until(
        self, done: Callable[[], bool], seconds: float, describe: Callable[[], str]
    ) -> None:
        try:
            async with asyncio.timeout(seconds):
                while not done():
                    await self._output_changed.wait()
        except TimeoutError:
            raise AssertionError(f"{describe()} within {seconds}s\n{self.describe()}") from None

    def describe(self) -> str:
        """A readable account of what the bot did, for assertion messages."""
        lines = [f"sent ({len(self._sent)}):"]
        lines += [
            f"  {_recipient_of(m)} …{m['wamid'][-12:]}: {_visible_text(m)!r}" for m in self._sent
        ]
        lines.append(f"marked read ({len(self.marked_read)}):")
        lines += [f"  {r.message_id} typing={r.typing}" for r in self.marked_read]
        lines.append(f"errors returned ({len(self.errors)}):")
        lines += [f"  {code} {message}" for code, message in self.errors]
        lines.append(f"pending failed statuses: {len(self._pending_statuses)}")
        lines.append(f"last calls: {[f'{c.method} {c.path}' for c in self.calls[-15:]]}")
        return "\n".join(lines)

    def _notify_output(self) -> None:
        changed, self._output_changed = self._output_changed, asyncio.Event()
        changed.set()

    # ------------------------------------------------------------------ inbound builders

    def text_message(
        self, user: str, text: str, *, name: str | None = None, context_id: str | None = None
    ) -> Json:
        """A `type: "text"` message from `user`. `name` is the profile name shown in
        `contacts` (remembered per user; "Rina" until one is given). `context_id` makes it
        a reply to that wamid. Opens the user's 24-hour window."""
        message = self._inbound(user, "text", name)
        message["text"] = {"body": text}
        if context_id is not None:
            message["context"] = {"from": self.display_phone_number, "id": context_id}
        return message

    def button_reply(
        self,
        user: str,
        id: str,
        title: str,
        *,
        name: str | None = None,
        context_id: str | None = None,
    ) -> Json:
        """The user tapping a reply button: `interactive.type == "button_reply"`, with
        `context.id` the wamid of the message carrying the buttons (default: the last
        message sent to this user, as it usually is)."""
        message = self._inbound(user, "interactive", name)
        message["context"] = self._context(user, context_id)
        message["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": id, "title": title},
        }
        return message

    def list_reply(
        self,
        user: str,
        id: str,
        title: str,
        description: str = "",
        *,
        name: str | None = None,
        context_id: str | None = None,
    ) -> Json:
        """The user choosing a list row: `interactive.type == "list_reply"` (the
        description is omitted when empty, as for a row without one)."""
        reply: Json = {"id": id, "title": title}
        if description:
            reply["description"] = description
        message = self._inbound(user, "interactive", name)
        message["context"] = self._context(user, context_id)
        message["interactive"] = {"type": "list_reply", "list_reply": reply}
        return message

    def template_button(
        self,
        user: str,
        payload: str,
        text: str,
        *,
        name: str | None = None,
        context_id: str | None = None,
    ) -> Json:
        """The user tapping a template's quick-reply button: `type: "button"` with
        `button: {"payload", "text"}` (not `interactive`)."""
        message = self._inbound(user, "button", name)
        message["context"] = self._context(user, context_id)
        message["button"] = {"payload": payload, "text": text}
        return message

    def image(
        self,
        user: str,
        *,
        caption: str | None = None,
        mime_type: str = "image/jpeg",
        name: str | None = None,
    ) -> Json:
        """A photo (`type: "image"`); the media id is fresh, the file is not downloadable."""
        media = self._media(mime_type)
        if caption is not None:
            media["caption"] = caption
        message = self._inbound(user, "image", name)
        message["image"] = media
        return message

    def audio(
        self,
        user: str,
        *,
        voice: bool = True,
        mime_type: str = "audio/ogg; codecs=opus",
        name: str | None = None,
    ) -> Json:
        """A voice note (`voice: true`, the default) or an audio file."""
        media = self._media(mime_type)
        media["voice"] = voice
        message = self._inbound(user, "audio", name)
        message["audio"] = media
        return message

    def document(
        self,
        user: str,
        filename: str = "CV.pdf",
        *,
        caption: str | None = None,
        mime_type: str = "application/pdf",
        name: str | None = None,
    ) -> Json:
        """A document with its `filename`."""
        media = self._media(mime_type)
        media["filename"] = filename
        if caption is not None:
            media["caption"] = caption
        message = self._inbound(user, "document", name)
        message["document"] = media
        return message

    def sticker(self, user: str, *, animated: bool = False, name: str | None = None) -> Json:
        """A sticker (webp)."""
        media = self._media("image/webp")
        media["animated"] = animated
        message = self._inbound(user, "sticker", name)
        message["sticker"] = media
        return message

    def location(
        self,
        user: str,
        latitude: float = -6.175392,
        longitude: float = 106.827153,
        *,
        place: str | None = None,
        address: str | None = None,
        name: str | None = None,
    ) -> Json:
        """A shared location (default: Monas, Jakarta); `place` is the location's `name`."""
        location: Json = {"latitude": latitude, "longitude": longitude}
        if place is not None:
            location["name"] = place
        if address is not None:
            location["address"] = address
        message = self._inbound(user, "location", name)
        message["location"] = location
        return message

    def reaction(self, user: str, message_id: str, emoji: str, *, name: str | None = None) -> Json:
        """The user reacting to `message_id` with `emoji`; an empty `emoji` is Meta's
        "reaction removed" (the key is then absent)."""
        reaction: Json = {"message_id": message_id}
        if emoji:
            reaction["emoji"] = emoji
        message = self._inbound(user, "reaction", name)
        message["reaction"] = reaction
        return message

    def unsupported(self, user: str, *, name: str | None = None) -> Json:
        """What Meta sends for a message type the Cloud API cannot forward (a poll, a
        view-once photo, ...): `type: "unsupported"` with error 131051."""
        message = self._inbound(user, "unsupported", name)
        message["errors"] = [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ]
        return message

    def status(
        self,
        wamid: str,
        status: Literal["sent", "delivered", "read", "failed"],
        recipient: str | None = None,
        errors: Iterable[int | Json] | None = None,
    ) -> Json:
        """A `value.statuses` entry for an outbound message. `recipient` defaults to whom
        `wamid` was sent; a phone goes in `recipient_id`, a BSUID in
        `recipient_user_id`. `errors`: error codes or error dicts (a `failed` status
        without any gets 131000)."""
        if recipient is None:
            recipient = next((_recipient_of(m) for m in self._sent if m["wamid"] == wamid), None)
            if recipient is None:
                raise ValueError(f"{wamid} was not sent by the fake; pass recipient=")
        entry: Json = {"id": wamid, "status": status, "timestamp": self._timestamp()}
        entry.update(self._recipient_fields(recipient))
        if status in ("sent", "delivered"):
            entry["pricing"] = {
                "billable": False,
                "pricing_model": "PMP",
                "category": "service",
                "type": "free_customer_service",
            }
        if status == "failed" and errors is None:
            errors = [131000]
        if errors is not None:
            entry["errors"] = [e if isinstance(e, dict) else status_error(e) for e in errors]
        return entry

    def payload(self, *items: Json, contacts: list[Json] | None = None) -> Json:
        """The full webhook body for messages and/or statuses built by this fake.
        `contacts` defaults to one entry per distinct sender of `items`' messages (none
        for a statuses-only payload, as Meta sends them)."""
        messages = [item for item in items if "type" in item and "status" not in item]
        statuses = [item for item in items if "status" in item]
        value: Json = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
        }
        if contacts is None and messages:
            contacts = []
            seen: set[str] = set()
            for message in messages:
                person = self._person(message.get("from") or message["from_user_id"])
                if person not in seen:
                    seen.add(person)
                    contacts.append(self.contact(person))
        if contacts is not None:
            value["contacts"] = contacts
        if messages:
            value["messages"] = messages
        if statuses:
            value["statuses"] = statuses
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }

    def text_payload(self, user: str, text: str, *, name: str | None = None) -> Json:
        """`payload(text_message(user, text, name=name))`: the common case in one call."""
        return self.payload(self.text_message(user, text, name=name))

    def contact(self, user: str) -> Json:
        """The `contacts[]` entry Meta shows for `user` (profile name, `wa_id` for a phone,
        `user_id` for a BSUID, both when linked)."""
        sender = self._sender(user)
        profile: Json = {"name": self._names.get(self._person(user), "Rina")}
        username = self._usernames.get(self._person(user))
        if username is not None:
            profile["username"] = username
        contact: Json = {"profile": profile}
        if sender.phone is not None:
            contact["wa_id"] = sender.phone
        if sender.user_id is not None:
            contact["user_id"] = sender.user_id
        return contact

    # ------------------------------------------------------------------ webhook delivery

    def sign(self, raw: bytes) -> str:
        """The `X-Hub-Signature-256` value Meta computes: HMAC-SHA256 of the raw body."""
        digest = hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    def encode(self, payload: Json) -> bytes:
        """The exact bytes Meta would send for `payload` (see `meta_json_bytes`)."""
        return meta_json_bytes(payload)

    async def post_webhook(
        self,
        url: str,
        payload: Json | bytes,
        *,
        signature: str | None = "auto",
        reserialize: bool = False,
    ) -> tuple[int, str]:
        """POSTs a webhook body to the bot and returns `(HTTP status, response text)`.

        A dict is serialized as Meta does (`encode`); bytes are sent exactly as given.
        `signature`: "auto" = the correct `X-Hub-Signature-256` for the bytes sent,
        None = no header, any other string = that header value verbatim (a wrong digest,
        a `sha1=` one...). `reserialize=True` sends the same content with other bytes
        (indented, keys sorted, raw UTF-8) and signs those: Meta retrying a delivery
        does not promise identical bytes, so dedupe must go by wamid."""
        raw = payload if isinstance(payload, bytes) else self.encode(payload)
        if reserialize:
            decoded = json.loads(raw)
            raw = json.dumps(decoded, indent=1, sort_keys=True, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "auto":
            headers["X-Hub-Signature-256"] = self.sign(raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=raw, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def verify_webhook(
        self, url: str, verify_token: str, challenge: str = "1158201444"
    ) -> tuple[int, str]:
        """Meta's subscription handshake: `GET url?hub.mode=subscribe&hub.verify_token=
        ...&hub.challenge=...`; a correct bot answers 200 with the challenge as text."""
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, params=params) as response,
        ):
            return response.status, await response.text()

    # ------------------------------------------------------------------ users and ids

    def _person(self, user: str) -> str:
        """One key per human: a linked BSUID maps to its phone; a leading + is dropped."""
        user = user.removeprefix("+")
        return self._phone_of.get(user, user)

    def _sender(self, user: str) -> _Sender:
        person = self._person(user)
        if _is_phone(person):
            return _Sender(person, self._bsuid_of.get(person))
        return _Sender(None, person)

    def _recipient_fields(self, recipient: str) -> Json:
        sender = self._sender(recipient)
        fields: Json = {}
        if sender.phone is not None:
            fields["recipient_id"] = sender.phone
        if sender.user_id is not None:
            fields["recipient_user_id"] = sender.user_id
        return fields

    def _inbound(self, user: str, message_type: str, name: str | None) -> Json:
        person = self._person(user)
        if name is not None:
            self._names[person] = name
        sender = self._sender(person)
        message: Json = {}
        if sender.phone is not None:
            message["from"] = sender.phone
        if sender.user_id is not None:
            message["from_user_id"] = sender.user_id
        message["id"] = self._new_wamid(person)
        message["timestamp"] = self._timestamp()
        message["type"] = message_type
        self.user_wrote(person)
        return message

    def _context(self, user: str, context_id: str | None) -> Json:
        if context_id is None:
            earlier = self.sent_to(user)
            context_id = earlier[-1]["wamid"] if earlier else self._new_wamid(user)
        return {"from": self.display_phone_number, "id": context_id}

    def _media(self, mime_type: str) -> Json:
        media_id = str(1_000_000_000_000_000 + next(self._media_counter))
        return {
            "mime_type": mime_type,
            "sha256": base64.b64encode(hashlib.sha256(media_id.encode()).digest()).decode(),
            "id": media_id,
        }

    def _new_wamid(self, user: str) -> str:
        # Real wamids are base64 of a protobuf holding the user's number and a random id;
        # this keeps the look (and the uniqueness) without the protobuf.
        raw = f"\x15\x02\x00\x11{user}\x18\x12{next(self._wamid_counter):06d}"
        raw += secrets.token_hex(7).upper()
        return "wamid.HBgN" + base64.b64encode(raw.encode()).decode()

    def _timestamp(self) -> str:
        return str(int(self._clock()))

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        body = await _request_body(request)
        path = "/" + request.match_info["path"]
        self.calls.append(Call(request.method, path, body, time.monotonic()))
        if self.delay:
            self._notify_output()  # the call is visible now, the answer comes later
            await asyncio.sleep(self.delay)
        try:
            response = self._route(request, path, body)
        except _GraphError as error:
            self.errors.append(ErrorRecord(error.code, error.message))
            response = error.response()
        self._notify_output()
        return response

    def _route(self, request: web.Request, path: str, body: Json) -> web.Response:
        is_send = "status" not in body
        recipient = _peek_recipient(body) if is_send else None
        self._scripted_html(recipient)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        token = token or request.query.get("access_token", "")
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            raise _GraphError(190)
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[2] != "messages" or request.method != "POST":
            raise _GraphError(
                100,
                f"Unsupported {request.method.lower()} request. Please read the Graph API "
                "documentation at https://developers.facebook.com/docs/graph-api",
                details="",
                error_type="GraphMethodException",
            )
        version, phone_number_id, _ = parts
        if version != self.version:
            raise _GraphError(
                100,
                f"(#100) Unknown API version: {version}",
                details="",
                error_type="OAuthException",
            )
        if phone_number_id != self.phone_number_id:
            raise _GraphError(
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this "
                "operation. Please read the Graph API documentation at "
                "https://developers.facebook.com/docs/graph-api",
                details="",
                error_type="GraphMethodException",
                subcode=33,
            )
        if "messaging_product" not in body:
            raise _missing("messaging_product")
        if body["messaging_product"] != "whatsapp":
            raise _GraphError(
                100,
                "(#100) Param messaging_product must be one of {WHATSAPP} - got "
                f'"{body["messaging_product"]}".',
                details="",
            )
        if not is_send:
            return self._mark_read(body)
        return self._send(body)

    def _mark_read(self, body: Json) -> web.Response:
        if body["status"] != "read":
            raise _GraphError(100, details='status must be "read"')
        message_id = body.get("message_id")
        if not message_id:
            raise _missing("message_id")
        if not isinstance(message_id, str) or not message_id.startswith("wamid."):
            raise _GraphError(100, details=f"Invalid message_id: {message_id!r}")
        indicator = body.get("typing_indicator")
        if indicator is not None and (
            not isinstance(indicator, dict) or indicator.get("type") != "text"
        ):
            raise _invalid("typing_indicator['type'] must be \"text\"")
        self.marked_read.append(MarkedRead(message_id, indicator is not None, time.monotonic()))
        return web.json_response({"success": True})

    def _send(self, body: Json) -> web.Response:
        to, recipient = body.get("to"), body.get("recipient")
        if to is None and recipient is None:
            raise _missing("to")
        if to is not None and recipient is not None:
            raise _GraphError(
                100, details="Only one of the parameters to and recipient can be set."
            )
        if to is not None:
            if not isinstance(to, str) or not to.removeprefix("+").isdigit():
                raise _GraphError(100, details=f"Invalid phone number in to: {to!r}")
            address = to
        else:
            if not isinstance(recipient, str) or not recipient or _is_phone(recipient):
                raise _GraphError(
                    100, details=f"recipient must be a business-scoped user ID: {recipient!r}"
                )
            address = recipient
        message_type = body.get("type", "text")  # Meta's default type is text
        _validate_content(message_type, body)
        if message_type == "template":
            template = body["template"]
            if template["name"] not in self.templates:
                raise _GraphError(
                    132001,
                    details=f"template name ({template['name']}) does not exist in "
                    f"{template['language']['code']}",
                )
        # Limits first, so a rate-limited attempt does not use up a scripted failure.
        self._check_rate_limits(address)
        failure = self._scripted_failure(address)
        if failure is not None and not failure.later:
            raise _GraphError(
                failure.code,
                failure.message,
                details=failure.details,
                http_status=failure.http_status,
            )
        person = self._person(address)
        late_error: int | None = failure.code if failure is not None else None
        free_form = message_type != "template"
        if free_form and self.window_check != "off" and not self.window_open(address):
            if self.window_check == "error":
                raise _GraphError(131047)
            late_error = late_error or 131047

        now = self._monotonic()
        self._send_times.append(now)
        self._last_sent[person] = now
        wamid = self._new_wamid(person)
        self._sent.append({**body, "wamid": wamid})
        if late_error is not None:
            errors: list[int | Json] = [late_error]
            if failure is not None and (failure.message or failure.details):
                error = status_error(late_error)
                if failure.message:
                    error["title"] = error["message"] = failure.message
                if failure.details:
                    error["error_data"] = {"details": failure.details}
                errors = [error]
            self._pending_statuses.append(self.status(wamid, "failed", address, errors))
        contact: Json = {"input": address}
        if to is not None:
            contact["wa_id"] = to.removeprefix("+")
        else:
            contact["user_id"] = recipient
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )

    def _check_rate_limits(self, address: str) -> None:
        now = self._monotonic()
        while self._send_times and now - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.messages_per_second:
            raise _GraphError(130429)
        last = self._last_sent.get(self._person(address))
        if self.pair_interval > 0 and last is not None and now - last < self.pair_interval:
            raise _GraphError(131056)

    def _scripted_failure(self, address: str) -> _ScriptedFailure | None:
        person = self._person(address)
        for index, failure in enumerate(self._failures):
            if failure.html or (failure.to is not None and self._person(failure.to) != person):
                continue
            failure.times -= 1
            if failure.times <= 0:
                del self._failures[index]
            return failure
        return None

    def _scripted_html(self, recipient: str | None) -> None:
        for index, failure in enumerate(self._failures):
            if not failure.html:
                continue
            if failure.to is not None and (
                recipient is None or self._person(failure.to) != self._person(recipient)
            ):
                continue
            failure.times -= 1
            if failure.times <= 0:
                del self._failures[index]
            raise _GraphError(
                failure.code, failure.message, http_status=failure.http_status, html=True
            )


def status_error(code: int) -> Json:
    """The error object of a `failed` status webhook for Meta error `code`."""
    title, _, details = ERROR_TITLES.get(code, (f"Error {code}", 400, f"Error {code}"))
    error: Json = {"code": code, "title": title, "message": title}
    if details:
        error["error_data"] = {"details": details}
    error["href"] = ERROR_DOCS
    return error


def _recipient_of(message: Json) -> str:
    address = message.get("to") or message.get("recipient") or ""
    return str(address).removeprefix("+")


def _visible_text(message: Json) -> str:
    kind = message.get("type", "text")
    if kind == "text":
        return str(message.get("text", {}).get("body", ""))
    if kind == "interactive":
        return str(message.get("interactive", {}).get("body", {}).get("text", ""))
    if kind == "template":
        return f"template:{message.get('template', {}).get('name')}"
    return f"<{kind}>"


def _peek_recipient(body: Json) -> str | None:
    value = body.get("to") or body.get("recipient")
    return value if isinstance(value, str) else None


async def _request_body(request: web.Request) -> Json:
    """The JSON object of the body, or `{}` when there is none or it is not JSON: Graph
    then sees no parameters at all and complains about `messaging_product` first."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        decoded = json.loads(raw)
        if isinstance(decoded, dict):
            return decoded
    return {}


# --------------------------------------------------------------------------- validation


def _require(container: Any, key: str, path: str) -> Any:
    if not isinstance(container, dict) or container.get(key) in (None, ""):
        raise _missing(f"{path}['{key}']" if path else key)
    return container[key]


def _check_length(value: Any, limit: int, what: str, minimum: int = 1) -> str:
    if not isinstance(value, str):
        raise _invalid(f"{what} must be a string")
    if not minimum <= len(value) <= limit:
        raise _invalid(f"{what} length invalid. Min length: {minimum}, Max length: {limit}")
    return value


def _validate_content(message_type: Any, body: Json) -> None:
    if message_type == "text":
        text = _require(body, "text", "")
        _check_length(_require(text, "body", "text"), MAX_TEXT_BODY, "text['body']")
        preview = text.get("preview_url")
        if preview is not None and not isinstance(preview, bool):
            raise _invalid("text['preview_url'] must be a boolean")
    elif message_type == "interactive":
        _validate_interactive(_require(body, "interactive", ""))
    elif message_type == "template":
        template = _require(body, "template", "")
        if not isinstance(_require(template, "name", "template"), str):
            raise _invalid("template['name'] must be a string")
        language = _require(template, "language", "template")
        _require(language, "code", "template['language']")
        components = template.get("components")
        if components is not None and (
            not isinstance(components, list)
            or not all(isinstance(c, dict) and "type" in c for c in components)
        ):
            raise _invalid("template['components'] must be a list of objects with a type")
    elif message_type in _FREE_FORM_MEDIA:
        _require(body, str(message_type), "")
    else:
        raise _GraphError(
            100, details=f"Unsupported message type: {message_type!r}", http_status=400
        )


def _validate_interactive(interactive: Json) -> None:
    kind = _require(interactive, "type", "interactive")
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _check_length(header.get("text"), MAX_HEADER_TEXT, "Header text")
    footer = interactive.get("footer")
    if footer is not None:
        _check_length(
            _require(footer, "text", "interactive['footer']"), MAX_FOOTER_TEXT, "Footer text"
        )
    body = _require(interactive, "body", "interactive")
    text = _require(body, "text", "interactive['body']")
    action = _require(interactive, "action", "interactive")
    if kind == "button":
        _check_length(text, MAX_BUTTON_BODY, "Body text")
        buttons = _require(action, "buttons", "interactive['action']")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise _invalid(f"Buttons count invalid. Min: 1, Max: {MAX_BUTTONS}")
        ids: set[str] = set()
        titles: set[str] = set()
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise _invalid("Button type must be reply")
            reply = _require(button, "reply", "interactive['action']['buttons'][]")
            button_id = _check_length(reply.get("id"), MAX_BUTTON_ID, "Button id")
            title = _check_length(reply.get("title"), MAX_BUTTON_TITLE, "Button title")
            if button_id in ids:
                raise _invalid("Duplicate button id")
            if title in titles:
                raise _invalid("Duplicate button title")
            ids.add(button_id)
            titles.add(title)
    elif kind == "list":
        _check_length(text, MAX_LIST_BODY, "Body text")
        _check_length(
            _require(action, "button", "interactive['action']"), MAX_LIST_BUTTON, "Button label"
        )
        sections = _require(action, "sections", "interactive['action']")
        if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_LIST_SECTIONS:
            raise _invalid(f"Sections count invalid. Min: 1, Max: {MAX_LIST_SECTIONS}")
        row_ids: set[str] = set()
        for section in sections:
            rows = _require(section, "rows", "interactive['action']['sections'][]")
            if len(sections) > 1:
                # Only a multi-section list needs section titles.
                _check_length(section.get("title"), MAX_SECTION_TITLE, "Section title")
            elif section.get("title") is not None:
                _check_length(section["title"], MAX_SECTION_TITLE, "Section title")
            if not isinstance(rows, list) or not rows:
                raise _invalid("Section rows count invalid. Min: 1")
            for row in rows:
                if not isinstance(row, dict):
                    raise _invalid("Row must be an object")
                row_id = _check_length(row.get("id"), MAX_ROW_ID, "Row id")
                _check_length(row.get("title"), MAX_ROW_TITLE, "Row title")
                if row.get("description") is not None:
                    _check_length(
                        row["description"], MAX_ROW_DESCRIPTION, "Row description", minimum=0
                    )
                if row_id in row_ids:
                    raise _invalid("Duplicate row id")
                row_ids.add(row_id)
        if len(row_ids) > MAX_LIST_ROWS:
            raise _invalid(f"Total row count exceed max allowed count: {MAX_LIST_ROWS}")
    else:
        raise _invalid(f"Interactive type not supported by the fake: {kind!r}")
