"""WhatsApp webhooks in the coach's terms: each message and each status in a payload is
a journal arrival; a journalled one becomes an event; replies and scheduled messages go
back out through the sender, as free text inside the 24-hour window and as the approved
template outside it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.whatsapp.render import render
from bot.channels.whatsapp.sender import (
    UNDELIVERABLE,
    WINDOW_CLOSED,
    WhatsAppSender,
    WindowClosed,
)
from bot.clock import Clock
from bot.db.inbound import Arrival, canonical_json
from bot.db.models import InboundUpdate, User
from bot.inbound.events import Action, Decoded, Handle, Ignore, Notice, StatusReport
from content.messages import Messages
from handlers.types import Inbound, Reply

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)
# What the template's quick-reply button sends back when tapped.
REENGAGE_PAYLOAD = "v1:latihan:next"
MEDIA = frozenset(
    {"image", "audio", "video", "sticker", "location", "contacts", "reaction", "unsupported"}
)
_NOT_DIGITS = re.compile(r"\D")


def normalize_phone(raw: str) -> str:
    """Digits only, with Indonesia's country code: "0812-3456", "+62 812 3456" and
    "62812…" are all "62812…"."""
    digits = _NOT_DIGITS.sub("", raw)
    return "62" + digits[1:] if digits.startswith("0") else digits


def _changes(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in payload.get("entry") or ():
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or ():
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict) and change.get("field") == "messages":
                yield value


def _identity(contact: dict[str, Any], message: dict[str, Any]) -> tuple[str, str]:
    """(business-scoped user id, phone); either may be "" but not both."""
    bsuid = str(message.get("from_user_id") or contact.get("user_id") or "")
    phone = str(message.get("from") or contact.get("wa_id") or "")
    return bsuid, normalize_phone(phone) if phone else ""


def arrivals(payload: dict[str, Any]) -> list[Arrival]:
    """Every message and status in a webhook payload, which can hold several entries,
    changes and users. Keyed by wamid alone: Meta never reuses one."""
    found: list[Arrival] = []
    for value in _changes(payload):
        contacts = [c for c in value.get("contacts") or () if isinstance(c, dict)]
        for message in value.get("messages") or ():
            if not isinstance(message, dict) or not message.get("id"):
                continue
            contact = next(
                (
                    c
                    for c in contacts
                    if c.get("wa_id") == message.get("from")
                    or (c.get("user_id") and c.get("user_id") == message.get("from_user_id"))
                ),
                contacts[0] if len(contacts) == 1 else {},
            )
            bsuid, phone = _identity(contact, message)
            timestamp = str(message.get("timestamp", ""))
            found.append(
                Arrival(
                    platform_id=str(message["id"]),
                    payload=canonical_json({"message": message, "contact": contact}),
                    chat_id=bsuid or phone,
                    kind=f"message:{message.get('type', '')}"[:32],
                    sent_at=float(timestamp) if timestamp.isdigit() else None,
                    key="",
                )
            )
        for status in value.get("statuses") or ():
            if not isinstance(status, dict) or not status.get("id"):
                continue
            user = str(status.get("recipient_user_id") or "") or normalize_phone(
                str(status.get("recipient_id") or "")
            )
            found.append(
                Arrival(
                    platform_id=f"{status['id']}:{status.get('status', '')}"[:128],
                    payload=canonical_json({"status": status}),
                    chat_id=user,
                    kind="status",
                    from_user=False,
                    key="",
                )
            )
    return found


class WhatsAppChannel:
    """The channel side of the inbound worker (`decode`, `reply`) and the scheduler's
    way out (`deliver`)."""

    def __init__(
        self,
        sender: WhatsAppSender,
        sessions: async_sessionmaker[AsyncSession],
        messages: Messages,
        clock: Clock,
        *,
        template: str,
        template_language: str,
    ) -> None:
        self._sender = sender
        self._sessions = sessions
        self._messages = messages
        self._clock = clock
        self._template = template
        self._template_language = template_language

    async def decode(self, row: InboundUpdate) -> Decoded:
        data = json.loads(row.payload)
        if "status" in data:
            return self._status(row.chat_id, data["status"])
        message, contact = data["message"], data.get("contact") or {}
        bsuid, phone = _identity(contact, message)
        chat_id = await self._link(bsuid, phone) if bsuid and phone else row.chat_id
        name = str((contact.get("profile") or {}).get("name") or "")
        kind = str(message.get("type", ""))
        before = self._mark_read(str(message["id"]))
        if kind == "text":
            text = str((message.get("text") or {}).get("body") or "")
            return Decoded(Handle(Inbound(CHANNEL, chat_id, text, None, name)), before=before)
        if kind in ("interactive", "button"):
            payload = _tapped(message)
            if payload is not None:
                inbound = Inbound(CHANNEL, chat_id, payload=payload, display_name=name)
                return Decoded(Handle(inbound), before=before)
            text = str((message.get("button") or {}).get("text") or "")
            return Decoded(Handle(Inbound(CHANNEL, chat_id, text, None, name)), before=before)
        if kind == "document":
            return Decoded(Notice(chat_id, "document_not_supported", name), before=before)
        if kind in MEDIA:
            media = Inbound(CHANNEL, chat_id, "", None, name, has_media=True)
            return Decoded(Handle(media), before=before)
        return Decoded(Ignore(f"message type {kind}"))

    def _status(self, chat_id: str, status: dict[str, Any]) -> Decoded:
        wamid, state = str(status.get("id", "")), str(status.get("status", ""))
        if state in ("sent", "delivered", "read"):
            return Decoded(StatusReport(chat_id, wamid, state))
        if state != "failed":
            return Decoded(Ignore(f"status {state}"))
        codes = [e.get("code") for e in status.get("errors") or () if isinstance(e, dict)]
        if UNDELIVERABLE in codes:
            return Decoded(StatusReport(chat_id, wamid, "unreachable"))
        if WINDOW_CLOSED in codes:
            # The message came too late for the window: the template asks them back.
            report = StatusReport(chat_id, wamid, "failed", "window closed")
            return Decoded(report, after=self._reengage(chat_id))
        reason = f"failed ({codes[0] if codes else 'no code'})"
        return Decoded(StatusReport(chat_id, wamid, "failed", reason))

    async def _link(self, bsuid: str, phone: str) -> str:
        """A user who adopted a username arrives with a business-scoped id as well as
        (for a while) the phone number: the account made for the phone is re-keyed to
        the id, and the phone kept beside it, so it stays one user."""
        async with self._sessions() as session, session.begin():
            users = list(
                await session.scalars(
                    select(User).where(
                        User.channel == CHANNEL,
                        or_(
                            User.external_id.in_([bsuid, phone]),
                            User.alt_external_id == phone,
                        ),
                    )
                )
            )
            if any(user.external_id == bsuid for user in users):
                keyed = next(user for user in users if user.external_id == bsuid)
                keyed.alt_external_id = phone
            elif users:
                users[0].external_id, users[0].alt_external_id = bsuid, phone
        return bsuid

    def _mark_read(self, wamid: str) -> Action:
        async def mark() -> None:
            await self._sender.mark_read(wamid)

        return mark

    def _reengage(self, user: str) -> Action:
        async def send() -> None:
            await self._send_template(user)

        return send

    async def _send_template(self, user: str) -> str:
        template = {
            "type": "template",
            "template": {
                "name": self._template,
                "language": {"code": self._template_language},
                "components": [
                    {
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": "0",
                        "parameters": [{"type": "payload", "payload": REENGAGE_PAYLOAD}],
                    }
                ],
            },
        }
        return await self._sender.send(user, template, live=False, template=self._template)

    def _render(self, replies: Sequence[Reply]) -> list[dict[str, Any]]:
        say = self._messages.render
        return render(replies, prompt=say("wa_choose"), list_button=say("wa_list_button"))

    merges_replies = True  # one update's replies read best as few messages

    async def reply(
        self, chat_id: str, replies: Sequence[Reply], edit_target: str | None
    ) -> str | None:
        # WhatsApp can't edit a message: a reply that would replace one is sent anew.
        first = None
        for message in self._render(replies):
            try:
                ref = await self._sender.send(chat_id, message, live=True)
            except WindowClosed:
                ref = await self._send_template(chat_id)
            first = first or ref
        return first

    @property
    def scheduled_per_second(self) -> float:
        return self._sender.messages_per_second

    async def deliver(self, chat_id: str, reply: Reply) -> str | None:
        """A scheduled message: free text inside the 24-hour window, the template
        outside it (what it would have said waits for the user's tap on the button)."""
        if not await self._window_open(chat_id):
            return await self._send_template(chat_id)
        first = None
        for message in self._render([reply]):
            try:
                ref = await self._sender.send(chat_id, message, live=False)
            except WindowClosed:
                return await self._send_template(chat_id)
            first = first or ref
        return first

    async def _window_open(self, chat_id: str) -> bool:
        async with self._sessions() as session:
            last = await session.scalar(
                select(User.last_active_at).where(
                    User.channel == CHANNEL, User.external_id == chat_id
                )
            )
        return last is not None and self._clock() - last < WINDOW


def _tapped(message: dict[str, Any]) -> str | None:
    """The payload of a tapped reply button, list row or template quick reply."""
    interactive = message.get("interactive") or {}
    for key in ("button_reply", "list_reply"):
        choice = interactive.get(key)
        if isinstance(choice, dict) and choice.get("id"):
            return str(choice["id"])
    button = message.get("button") or {}
    payload = button.get("payload")
    if isinstance(payload, str) and payload.startswith("v1:"):
        return payload
    return None
