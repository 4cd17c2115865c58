"""A fake Telegram Bot API server for tests.

`FakeTelegram` is a small aiohttp web application on 127.0.0.1 (an ephemeral port) that
speaks the Bot API wire format closely enough for a real aiogram `Bot` to talk to it:

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, session=AiohttpSession(api=fake.api_server()))
        fake.push_message(1001, "/start")
        ...  # run Dispatcher.start_polling(bot) or feed a webhook handler
        sent = await fake.wait_for_sent(1, chat_id=1001)

Requests arrive as `POST {base}/bot{token}/{method}`. aiogram sends every parameter as a
form field (urlencoded, or multipart/form-data when a file is attached); anything that
is not a plain string is JSON-encoded on the way out (`reply_markup`, `commands`,
`allowed_updates`, and also numbers and booleans: `chat_id=1001`, `show_alert=true`).
The fake decodes those back into Python values, so `calls`, `sent()` and `edits()` hold
ints, bools, dicts and lists, while free-text fields (`text`, `url`, ...) stay strings.

Replies are `{"ok": true, "result": ...}`; errors are `{"ok": false, "error_code": N,
"description": "..."}` with the HTTP status equal to `error_code`, plus
`"parameters": {"retry_after": N}` for a 429. aiogram maps those to its exceptions
(`TelegramRetryAfter`, `TelegramForbiddenError`, `TelegramBadRequest`, ...). A scripted
failure can instead answer with an HTML page (`fail_next(..., html=True)`), the way a
proxy such as nginx in front of the Bot API answers a 502/504; aiogram cannot decode
that and raises `ClientDecodeError`. `call_times` holds a `time.monotonic()` stamp for
each entry of `calls`, for tests about pacing (`timed_calls_of()`), and `sent_times` one
for each entry of `sent()`.

With `FakeTelegram(max_per_second=30)` the fake enforces Telegram's global limit: a
`send*` call (sendMessage, sendChatAction, ...) that would make more than that many
`send*` calls in any sliding 1-second window is answered the way Telegram answers it,
HTTP 429 with `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry
after 1", "parameters": {"retry_after": 1}}`; nothing is sent, and `rate_limited` counts
those answers. A call refused that way does not count towards the window.

Some real-server checks are reproduced because they catch real bugs: HTML `parse_mode`
is parsed the way Telegram does (unsupported/unclosed tags are a 400 "can't parse
entities"), empty and over-long texts are refused, `callback_data` over 64 bytes is
refused, editing a message with identical content gives "message is not modified",
and once a user has blocked the bot (`push_my_chat_member(chat_id, "kicked")` or
`block()`) sends to that chat get 403 "Forbidden: bot was blocked by the user".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

__all__ = ["FakeTelegram", "TelegramHTMLError", "parse_telegram_html"]

Json = dict[str, Any]
_Handler = Callable[[Json], Awaitable[Any]]

MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPDATES_PER_POLL = 100

UNAUTHORIZED = "Unauthorized"
METHOD_NOT_FOUND = "Not Found: method not found"
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TOO_MANY_REQUESTS = "Too Many Requests: retry after "
RATE_LIMIT_RETRY_AFTER = 1  # seconds, in the 429 under `max_per_second`
RATE_LIMIT_WINDOW_SECONDS = 1.0
POLL_TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Parameters that are free text (or opaque ids) and must never be JSON-decoded, even
# when they look like a number, `true`, or a JSON array.
_TEXT_FIELD_NAMES = """
    text caption parse_mode callback_query_id inline_query_id shipping_query_id
    pre_checkout_query_id web_app_query_id business_connection_id message_effect_id
    secret_token url ip_address query description short_description name title
    language_code emoji first_name last_name phone_number vcard address question
    explanation payload currency start_parameter custom_title error_message invite_link
    next_offset file_id photo document audio video voice animation video_note sticker
    thumbnail
"""
_TEXT_FIELDS = frozenset(_TEXT_FIELD_NAMES.split())
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\Z")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}\Z")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
_BOT_COMMAND_AT_START = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


def decode_param(key: str, value: str) -> Any:
    """One form field as Telegram reads it: JSON-encoded values become Python values."""
    if key in _TEXT_FIELDS:
        return value
    if value in ("true", "false"):
        return value == "true"
    if _NUMBER.match(value):
        return json.loads(value)
    if value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML


class TelegramHTMLError(ValueError):
    """The text is not valid Telegram HTML; the message is what Telegram says after
    "Bad Request: can't parse entities: "."""


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_CHAR_REF = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([a-zA-Z]{2,10}));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR = re.compile(r"""\s*([^\s=>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


def _char_ref(text: str, pos: int) -> tuple[str, int] | None:
    """The character an `&...;` reference at `pos` stands for, as Telegram decodes it
    (only &lt; &gt; &amp; &quot; and numeric references; anything else is literal)."""
    match = _HTML_CHAR_REF.match(text, pos)
    if match is None:
        return None
    hex_code, dec_code, name = match.groups()
    if name is not None:
        char = _HTML_NAMED.get(name.lower())
        return None if char is None else (char, match.end())
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _unescape_attr(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ref = _char_ref(value, i) if value[i] == "&" else None
        if ref is None:
            out.append(value[i])
            i += 1
        else:
            out.append(ref[0])
            i = ref[1]
    return "".join(out)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    byte_offset: int  # of the "<" in the input, for error messages


def parse_telegram_html(text: str) -> tuple[str, list[Json]]:
    """Text and MessageEntity dicts for `parse_mode=HTML`, the way the Bot API parses it.

    Raises `TelegramHTMLError` with Telegram's wording for unsupported, unclosed or
    mismatched tags. Unescaped `>` and a `&` that starts no known reference are kept
    literally, as Telegram does; an unescaped `<` is read as the start of a tag.
    """

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode())

    out: list[str] = []
    position = 0  # UTF-16 length of `out`
    entities: list[Json] = []
    stack: list[_OpenTag] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "&":
            ref = _char_ref(text, i)
            if ref is not None:
                out.append(ref[0])
                position += utf16_len(ref[0])
                i = ref[1]
                continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            i += 1
            continue
        tag_start = i
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise TelegramHTMLError(
                    f"Unexpected end tag at byte offset {byte_offset(tag_start)}"
                )
            close = text.find(">", i)
            if close == -1:
                raise TelegramHTMLError(f"Unclosed end tag at byte offset {byte_offset(tag_start)}")
            end_name = text[i + 2 : close].strip().lower()
            open_tag = stack[-1]
            if end_name and end_name != open_tag.name:
                raise TelegramHTMLError(
                    f"Unmatched end tag at byte offset {byte_offset(tag_start)}, "
                    f'expected "</{open_tag.name}>", found "</{end_name}>"'
                )
            stack.pop()
            if position > open_tag.start:
                entities.append(_html_entity(open_tag, position))
            i = close + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        if j >= n:
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {byte_offset(tag_start)}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_ENTITY_TYPES:
            raise TelegramHTMLError(
                f'Unsupported start tag "{name}" at byte offset {byte_offset(tag_start)}'
            )
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise TelegramHTMLError(
                    f'Unclosed start tag "{name}" at byte offset {byte_offset(tag_start)}'
                )
            if text[j] == ">":
                break
            if text[j] == "/" and j + 1 < n and text[j + 1] == ">":
                j += 1
                break
            attr = _HTML_ATTR.match(text, j)
            if attr is None:
                raise TelegramHTMLError(
                    f'Empty attribute name in the tag "{name}" '
                    f"at byte offset {byte_offset(tag_start)}"
                )
            value = next((v for v in attr.group(2, 3, 4) if v is not None), "")
            attrs[attr.group(1).lower()] = _unescape_attr(value)
            j = attr.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(tag_start)}'
            )
        stack.append(_OpenTag(name, attrs, position, byte_offset(tag_start)))
        i = j + 1
    if stack:
        raise TelegramHTMLError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return _trim("".join(out), entities)


def _html_entity(tag: _OpenTag, end: int) -> Json:
    entity: Json = {
        "type": _HTML_ENTITY_TYPES[tag.name],
        "offset": tag.start,
        "length": end - tag.start,
    }
    if tag.name == "a":
        entity["url"] = tag.attrs.get("href", "")
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "code" and tag.attrs.get("class", "").startswith("language-"):
        entity["language"] = tag.attrs["class"].removeprefix("language-")
    return entity


def _trim(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    """Strips surrounding whitespace as Telegram does and clips the entities to match."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    clipped: list[Json] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    clipped.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, clipped


# --------------------------------------------------------------------------- server


class _ApiError(Exception):
    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        html: bool = False,
    ):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.html = html  # the description is an HTML page, sent as text/html


@dataclass
class _ScriptedFailure:
    error_code: int
    description: str
    retry_after: int | None
    times: int
    after: int = 0  # calls that still succeed before the failures begin
    chat_id: int | str | None = None  # None: a call for any chat
    html: bool = False

    def matches(self, params: Json) -> bool:
        return self.chat_id is None or params.get("chat_id") == self.chat_id


class FakeTelegram:
    """A scriptable, observable Telegram Bot API server on 127.0.0.1.

    Input: `push_message`, `push_callback`, `push_my_chat_member` queue updates for
    getUpdates (the `make_*` variants build the same updates without queueing them, e.g.
    for `post_update_to_webhook`); `fail_next` scripts errors.

    Output: `calls` (every method call, decoded) and `call_times` (when each arrived,
    `time.monotonic()`), `timed_calls_of()`, `sent()`, `edits()`, `wait_for_sent()`,
    `answered_callbacks`, `commands`, `webhook`, `errors`, `request_count`, `sent_times`
    and `rate_limited` (the 429s answered under `max_per_second`).
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_first_name: str = "Coach",
        bot_username: str = "coach_test_bot",
        clock: Callable[[], float] = time.time,
        require_https_webhook: bool = False,
        max_per_second: float | None = None,
    ) -> None:
        """`clock` gives the Unix time used for `date` fields. Real Telegram refuses a
        webhook URL that is not HTTPS; that check is off by default so a test can register
        its local http://127.0.0.1 webhook and deliver to `webhook["url"]`.

        `max_per_second` (at least 1; None: no limit) is how many `send*` calls any
        sliding 1-second window may hold (its whole part); the call past it gets a 429
        with `retry_after` 1, as on Telegram, and counts in `rate_limited`."""
        if max_per_second is not None and max_per_second < 1:
            raise ValueError("max_per_second must be at least 1 (or None for no limit)")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.base_url = ""
        self._clock = clock
        self.require_https_webhook = require_https_webhook

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # time.monotonic() of each entry of `calls`
        self.sent_times: list[float] = []  # time.monotonic() of each entry of `sent()`
        self.max_per_second = max_per_second
        self.rate_limited = 0  # send* calls answered 429 under `max_per_second`
        self._window: deque[float] = deque()  # when the admitted send* calls arrived
        self.errors: list[tuple[str, int, str]] = []  # (method, error_code, description)
        self.request_count = 0
        self.answered_callbacks: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()
        self.left_chats: list[int] = []  # leaveChat calls, in order
        # (time.monotonic(), update ids) of every getUpdates answer that carried updates.
        self.batches: list[tuple[float, list[int]]] = []
        # Seconds to hold each call of a method before answering it (slow network).
        self.delays: dict[str, float] = {}

        self._sent: list[Json] = []
        self._edits: list[Json] = []
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], Json] = {}
        self._users: dict[int, Json] = {}
        self._callback_queries: set[str] = set()
        self._failures: dict[str, deque[_ScriptedFailure]] = {}
        self._updates_changed = asyncio.Event()
        self._output_changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None

        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._true,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "leaveChat": self._leave_chat,
            "close": self._true,
            "logOut": self._true,
        }
        # Bot API method names are case-insensitive.
        self._methods = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(
            app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True  # pending long polls answer at once
        self._wake_pollers()
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

    def api_server(self) -> TelegramAPIServer:
        """What aiogram's `AiohttpSession(api=...)` needs to talk to this server."""
        if not self.base_url:
            raise RuntimeError("FakeTelegram is not started")
        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """A real aiogram Bot pointed at this server; close it with `bot.session.close()`."""
        return Bot(self.token, session=AiohttpSession(api=self.api_server()), **bot_kwargs)

    # ------------------------------------------------------------------ scripting input

    def user(self, chat_id: int, first_name: str = "Rina", username: str | None = None) -> Json:
        """The Telegram user behind a private chat (remembered for later updates)."""
        known = self._users.get(chat_id)
        user: Json = {"id": chat_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        elif known is not None and known["first_name"] == first_name and "username" in known:
            user["username"] = known["username"]
        user["language_code"] = "id"
        self._users[chat_id] = user
        return dict(user)

    def chat(self, chat_id: int) -> Json:
        """The Chat object Telegram would show for `chat_id`."""
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Test group"}
        user = self._users.get(chat_id, {"first_name": "Rina"})
        chat: Json = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    def make_message_update(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Rina",
        username: str | None = None,
    ) -> Json:
        """An Update with a private-chat text message from the user; not queued.

        A leading `/command` gets its `bot_command` entity, as Telegram adds it."""
        sender = self.user(chat_id, first_name, username)
        message: Json = {
            "message_id": self._next_message_id(chat_id),
            "from": sender,
            "chat": self.chat(chat_id),
            "date": self._now(),
            "text": text,
        }
        command = _BOT_COMMAND_AT_START.match(text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        self._messages[(chat_id, message["message_id"])] = message
        return {"update_id": next(self._update_ids), "message": _copy(message)}

    def make_callback_update(
        self, chat_id: int, data: str, *, message_id: int, first_name: str = "Rina"
    ) -> Json:
        """An Update with the user pressing an inline button under message `message_id`;
        not queued. An unknown message id gives an InaccessibleMessage (date 0), as for a
        message Telegram no longer has."""
        query_id = str(4_000_000_000_000_000 + next(self._callback_ids))
        self._callback_queries.add(query_id)
        message = self._messages.get((chat_id, message_id))
        if message is None:
            message = {"chat": self.chat(chat_id), "message_id": message_id, "date": 0}
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": self.user(chat_id, first_name),
                "message": _copy(message),
                "chat_instance": str(-(chat_id * 2_654_435_761 % 10**18)),
                "data": data,
            },
        }

    def make_my_chat_member_update(self, chat_id: int, status: str) -> Json:
        """An Update with the bot's membership in a private chat changing to `status`
        ("kicked": the user blocked the bot; "member": unblocked / restarted); not queued.
        Also applies the change: sends to a chat that blocked the bot get 403."""
        if status == "kicked":
            self.blocked.add(chat_id)
        else:
            self.blocked.discard(chat_id)
        old_status = "member" if status == "kicked" else "kicked"
        known = self._users.get(chat_id)
        sender = self.user(chat_id, known["first_name"] if known else "Rina")
        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": self.chat(chat_id),
                "from": sender,
                "date": self._now(),
                "old_chat_member": self._member(old_status),
                "new_chat_member": self._member(status),
            },
        }

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Rina",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Queues a private-chat text message for getUpdates; returns the Update."""
        return self.push_update(
            self.make_message_update(chat_id, text, first_name=first_name, username=username)
        )

    def push_callback(
        self, chat_id: int, data: str, *, message_id: int, first_name: str = "Rina"
    ) -> dict[str, Any]:
        """Queues an inline-button press for getUpdates; returns the Update."""
        return self.push_update(
            self.make_callback_update(chat_id, data, message_id=message_id, first_name=first_name)
        )

    def push_my_chat_member(self, chat_id: int, status: str) -> dict[str, Any]:
        """Queues a my_chat_member Update (see `make_my_chat_member_update`)."""
        return self.push_update(self.make_my_chat_member_update(chat_id, status))

    def push_update(self, update: Json) -> Json:
        """Queues any Update dict for getUpdates and wakes a waiting long poll."""
        self._updates.append(update)
        self._wake_pollers()
        return update

    def block(self, chat_id: int) -> None:
        """The user blocks the bot without an update being delivered."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        after: int = 0,
        *,
        chat_id: int | str | None = None,
        html: bool = False,
    ) -> None:
        """The next `times` calls of `method` fail with this error (after being recorded
        in `calls`); e.g. `fail_next("sendMessage", 429, "Too Many Requests: retry after 3",
        retry_after=3)` or `fail_next("sendMessage", 403, "Forbidden: bot was blocked by
        the user")`. With `after`, that many calls succeed first (a failure mid-way
        through a long message). Scripts for one method run in the order given.

        With `chat_id`, only calls whose `chat_id` parameter is that chat count (for
        `after` too) and fail; calls for other chats pass by this script. With `html`,
        the answer is `description` as a `text/html` page with HTTP status `error_code`
        instead of the Bot API's JSON, like nginx's "502 Bad Gateway" page:
        `fail_next("sendMessage", 502, "<html>...</html>", html=True)`."""
        name = self._canonical(method)
        self._failures.setdefault(name, deque()).append(
            _ScriptedFailure(
                error_code, description, retry_after, times, after, chat_id=chat_id, html=html
            )
        )

    # ------------------------------------------------------------------ observing output

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Successful sendMessage calls: their decoded params (chat_id an int, text,
        parse_mode, reply_markup as dicts) plus the `message_id` the fake assigned."""
        return [m for m in self._sent if chat_id is None or m["chat_id"] == chat_id]

    def edits(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Successful editMessageText calls (decoded params)."""
        return [m for m in self._edits if chat_id is None or m.get("chat_id") == chat_id]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """Params of every call of `method`, successful or not."""
        name = self._canonical(method)
        return [params for called, params in self.calls if called == name]

    def timed_calls_of(self, method: str) -> list[tuple[float, dict[str, Any]]]:
        """`(time.monotonic() on arrival, params)` of every call of `method`, in order."""
        name = self._canonical(method)
        return [
            (at, params)
            for at, (called, params) in zip(self.call_times, self.calls, strict=True)
            if called == name
        ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message (after edits), as Telegram would return it."""
        message = self._messages.get((chat_id, message_id))
        return None if message is None else _copy(message)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    async def wait_for_sent(
        self,
        count: int,
        chat_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Waits until at least `count` messages were sent (to `chat_id`, if given) and
        returns all of them; AssertionError describing what happened on timeout."""
        where = "" if chat_id is None else f" to chat {chat_id}"
        await self._wait_until(
            lambda: len(self.sent(chat_id)) >= count,
            timeout,
            lambda: f"expected {count} sent message(s){where}, got {len(self.sent(chat_id))}",
        )
        return self.sent(chat_id)

    async def wait_for_edits(
        self,
        count: int,
        chat_id: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Like `wait_for_sent`, for editMessageText."""
        where = "" if chat_id is None else f" in chat {chat_id}"
        await self._wait_until(
            lambda: len(self.edits(chat_id)) >= count,
            timeout,
            lambda: f"expected {count} edit(s){where}, got {len(self.edits(chat_id))}",
        )
        return self.edits(chat_id)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Waits until `method` was called at least `count` times; returns the params."""
        await self._wait_until(
            lambda: len(self.calls_of(method)) >= count,
            timeout,
            lambda: f"expected {count} {method} call(s), got {len(self.calls_of(method))}",
        )
        return self.calls_of(method)

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
            f"  chat {m['chat_id']} #{m['message_id']}: {m.get('text')!r}" for m in self._sent
        ]
        lines.append(f"edits ({len(self._edits)}):")
        lines += [
            f"  chat {m.get('chat_id')} #{m.get('message_id')}: {m.get('text')!r}"
            for m in self._edits
        ]
        lines.append(f"errors returned ({len(self.errors)}):")
        lines += [f"  {method}: {code} {text}" for method, code, text in self.errors]
        lines.append(f"last calls: {[method for method, _ in self.calls[-15:]]}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ webhook delivery

    async def post_update_to_webhook(
        self, url: str, update: dict[str, Any], secret_token: str | None
    ) -> int:
        """Delivers `update` to a bot's webhook the way Telegram does and returns the
        HTTP status. A method in the response body (aiogram's reply-in-webhook, sent as
        multipart/form-data with a `method` field, or JSON) is executed like an API call
        and shows up in `calls`, `sent()` etc."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            status = response.status
            if status == 200:
                params = await _webhook_reply(response)
                method = params.pop("method", None)
                if isinstance(method, str):
                    await self._call(method, params)
        return status

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        self.request_count += 1
        path = request.match_info["path"]
        if not path.startswith("bot") or "/" not in path:
            return _error_response(404, "Not Found")
        token, _, method = path[3:].partition("/")
        if token != self.token:
            return _error_response(401, UNAUTHORIZED)
        method = method.removeprefix("test/")
        params = await _request_params(request)
        return await self._call(method, params)

    async def _call(self, method: str, params: Json) -> web.Response:
        name = self._canonical(method)
        arrived = time.monotonic()
        self.calls.append((name, params))
        self.call_times.append(arrived)
        # Judged on arrival, as Telegram counts a request when it gets it.
        over_limit = self._over_rate_limit(name, arrived)
        delay = self.delays.get(name, 0.0)
        if delay:
            # A slow network or Bot API: the call is seen now and answered later.
            self._notify_output()
            await asyncio.sleep(delay)
        try:
            if over_limit:
                self.rate_limited += 1
                retry_after = RATE_LIMIT_RETRY_AFTER
                raise _ApiError(429, f"{TOO_MANY_REQUESTS}{retry_after}", retry_after)
            self._scripted_failure(name, params)
            entry = self._methods.get(name.lower())
            if entry is None:
                raise _ApiError(404, METHOD_NOT_FOUND)
            result = await entry[1](params)
        except _ApiError as error:
            self.errors.append((name, error.error_code, error.description))
            self._notify_output()
            return _error_response(
                error.error_code, error.description, error.retry_after, html=error.html
            )
        self._notify_output()
        return web.json_response({"ok": True, "result": result})

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return method if entry is None else entry[0]

    def _over_rate_limit(self, method: str, now: float) -> bool:
        """True when this call is a send* past `max_per_second` in the last second;
        otherwise an admitted send* takes its place in the window."""
        if self.max_per_second is None or not method.lower().startswith("send"):
            return False
        window = self._window
        while window and window[0] <= now - RATE_LIMIT_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= int(self.max_per_second):
            return True
        window.append(now)
        return False

    def _scripted_failure(self, method: str, params: Json) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        # The first script that applies to this call's chat; one for another chat waits.
        index = next((i for i, f in enumerate(queue) if f.matches(params)), None)
        if index is None:
            return
        failure = queue[index]
        if failure.after > 0:
            failure.after -= 1
            return
        failure.times -= 1
        if failure.times <= 0:
            del queue[index]
        raise _ApiError(
            failure.error_code, failure.description, failure.retry_after, html=failure.html
        )

    def _wake_pollers(self) -> None:
        changed, self._updates_changed = self._updates_changed, asyncio.Event()
        changed.set()

    def _notify_output(self) -> None:
        changed, self._output_changed = self._output_changed, asyncio.Event()
        changed.set()

    def _now(self) -> int:
        return int(self._clock())

    def _next_message_id(self, chat_id: int) -> int:
        # In a private chat, incoming and outgoing messages share one id sequence.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _member(self, status: str) -> Json:
        member: Json = {"status": status, "user": dict(self.bot_user)}
        if status == "kicked":
            member["until_date"] = 0
        return member

    # ------------------------------------------------------------------ methods

    async def _true(self, params: Json) -> bool:
        return True

    async def _get_me(self, params: Json) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook is not None:
            raise _ApiError(409, WEBHOOK_ACTIVE)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", MAX_UPDATES_PER_POLL), 1), 100)
        timeout = max(_int_param(params, "timeout", 0), 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer getUpdates ends an older one that is still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(409, POLL_TERMINATED)
            if self._updates or self._closing:
                batch = [_copy(u) for u in self._updates[:limit]]
                if batch:
                    self.batches.append((time.monotonic(), [u["update_id"] for u in batch]))
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_changed.wait(), remaining)

    async def _leave_chat(self, params: Json) -> bool:
        self.left_chats.append(self._chat_id(params))
        return True

    async def _send_message(self, params: Json) -> Json:
        chat_id = self._chat_id(params)
        text, entities = self._formatted_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        message: Json = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self.chat(chat_id),
            "date": self._now(),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup is not None and "inline_keyboard" in markup:
            # Only inline keyboards are part of a Message; reply keyboards are not echoed.
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self._sent.append({**params, "chat_id": chat_id, "message_id": message["message_id"]})
        self.sent_times.append(time.monotonic())
        return _copy(message)

    async def _edit_message_text(self, params: Json) -> Json | bool:
        if "inline_message_id" in params:
            self._formatted_text(params)
            self._edits.append(dict(params))
            return True
        chat_id, message = self._editable_message(params)
        text, entities = self._formatted_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == inline
        ):
            raise _ApiError(400, NOT_MODIFIED)
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        _set_or_drop(message, "reply_markup", inline)
        message["edit_date"] = self._now()
        self._edits.append({**params, "chat_id": chat_id})
        return _copy(message)

    async def _edit_message_reply_markup(self, params: Json) -> Json | bool:
        if "inline_message_id" in params:
            return True
        _, message = self._editable_message(params)
        markup = _checked_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if message.get("reply_markup") == inline:
            raise _ApiError(400, NOT_MODIFIED)
        _set_or_drop(message, "reply_markup", inline)
        message["edit_date"] = self._now()
        return _copy(message)

    async def _delete_message(self, params: Json) -> bool:
        chat_id = self._chat_id(params)
        key = (chat_id, _int_param(params, "message_id", 0))
        if self._messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _answer_callback_query(self, params: Json) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._callback_queries:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callbacks.append(dict(params))
        return True

    async def _set_my_commands(self, params: Json) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command"))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = commands
        return True

    async def _get_my_commands(self, params: Json) -> list[Json]:
        return [dict(c) for c in self.commands]

    async def _delete_my_commands(self, params: Json) -> bool:
        self.commands = []
        return True

    async def _set_webhook(self, params: Json) -> bool:
        url = params.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if self.require_https_webhook and not str(url).startswith("https://"):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = dict(params)
        self._poll_generation += 1  # a waiting getUpdates now ends with a conflict
        self._wake_pollers()
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: Json) -> Json:
        info: Json = {
            "url": "" if self.webhook is None else self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # ------------------------------------------------------------------ method helpers

    def _chat_id(self, params: Json) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id == self.bot_id:
            raise _ApiError(403, "Forbidden: bots can't send messages to bots")
        if chat_id in self.blocked:
            raise _ApiError(403, BLOCKED)
        return chat_id

    def _editable_message(self, params: Json) -> tuple[int, Json]:
        chat_id = self._chat_id(params)
        message = self._messages.get((chat_id, _int_param(params, "message_id", 0)))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return chat_id, message

    def _formatted_text(self, params: Json) -> tuple[str, list[Json]]:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        if parse_mode is None:
            given = params.get("entities")
            text, entities = _trim(raw, list(given) if isinstance(given, list) else [])
        elif str(parse_mode).lower() == "html":
            try:
                text, entities = parse_telegram_html(raw)
            except TelegramHTMLError as error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif str(parse_mode).lower() in ("markdown", "markdownv2"):
            text, entities = raw.strip(), []  # Markdown is not parsed by the fake
        else:
            raise _ApiError(400, "Bad Request: unsupported parse_mode")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise _ApiError(400, "Bad Request: message is too long")
        return text, entities


def _checked_markup(markup: Any) -> Json | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if len(button) == 1:
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
    return markup


def _int_param(params: Json, key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ApiError(400, f"Bad Request: invalid {key} specified")
    number: int = value
    return number


def _set_or_drop(target: Json, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _copy(value: Json) -> Json:
    copied: Json = json.loads(json.dumps(value))
    return copied


def _error_response(
    error_code: int, description: str, retry_after: int | None = None, html: bool = False
) -> web.Response:
    if html:
        return web.Response(status=error_code, text=description, content_type="text/html")
    body: Json = {"ok": False, "error_code": error_code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=error_code)


async def _request_params(request: web.Request) -> Json:
    """Query string and body (urlencoded, multipart or JSON), decoded."""
    params: Json = {key: decode_param(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        if isinstance(body, dict):
            for key, value in body.items():
                params[key] = decode_param(key, value) if isinstance(value, str) else value
        return params
    if request.method == "POST":
        form = await request.post()
        for key, field in form.items():
            if isinstance(field, web.FileField):
                params[key] = {
                    "filename": field.filename,
                    "content_type": field.content_type,
                    "content": field.file.read(),
                }
            else:
                params[key] = decode_param(key, field if isinstance(field, str) else str(field))
    return params


async def _webhook_reply(response: aiohttp.ClientResponse) -> Json:
    """The method a webhook answered with, decoded like a request to the API."""
    if response.content_type == "multipart/form-data":
        params: Json = {}
        reader = aiohttp.MultipartReader.from_response(response)
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, aiohttp.BodyPartReader) and part.name:
                value = await part.text()
                params[part.name] = decode_param(part.name, value)
        return params
    if response.content_type == "application/json":
        body = await response.json()
        if isinstance(body, dict):
            return {
                key: decode_param(key, value) if isinstance(value, str) else value
                for key, value in body.items()
            }
    return {}
