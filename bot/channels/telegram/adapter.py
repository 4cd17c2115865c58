"""Telegram updates in the coach's terms: raw updates become journal arrivals, journalled
updates become events, and the coach's replies go back out through the shared sender.
Only private chats are served; the bot leaves any group it is added to."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType, ContentType
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import BotCommand, CallbackQuery, ChatMemberUpdated, Message, Update
from pydantic import ValidationError

from bot.channels.base import RetryLater, TemporaryFailure
from bot.channels.telegram.sender import TelegramSender, TransientTelegramError
from bot.db.inbound import Arrival, canonical_json
from bot.db.models import InboundUpdate
from bot.inbound.events import Action, Decoded, Handle, Ignore, Notice, Reachability
from content.messages import Messages
from handlers.types import Inbound, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# The commands shown in Telegram's menu, in this order; descriptions live in messages.yaml.
MENU_COMMANDS = (
    "start",
    "mode",
    "tips",
    "latihan",
    "interview",
    "jadwal",
    "batal",
    "tanya_balik",
    "peran",
    "level",
    "pengingat",
    "zona",
    "jeda",
    "lanjut",
    "bantuan",
)
# What a person sends; any other message (pinned, auto-delete timer, new members) is a
# service message and gets no reply.
MEDIA = frozenset(
    {
        ContentType.PHOTO,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.VOICE,
        ContentType.AUDIO,
        ContentType.ANIMATION,
        ContentType.STICKER,
        ContentType.CONTACT,
        ContentType.LOCATION,
        ContentType.VENUE,
        ContentType.POLL,
        ContentType.DICE,
        ContentType.STORY,
        ContentType.LIVE_PHOTO,
        ContentType.PAID_MEDIA,
        ContentType.CHECKLIST,
    }
)
GROUP_START_PAYLOAD = "grup"


def _chat_of(update: dict[str, Any]) -> tuple[str, str]:
    """(chat id, chat type) from a raw update, as far as it can be found without
    parsing it; ("", "") when there is none."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return str(chat["id"]), str(chat.get("type", ""))
        sender = value.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return str(sender["id"]), ChatType.PRIVATE.value
    return "", ""


def update_kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def arrival(update: dict[str, Any]) -> Arrival:
    chat_id, _ = _chat_of(update)
    message = update.get("message")
    date = message.get("date") if isinstance(message, dict) else None
    return Arrival(
        platform_id=str(update["update_id"]),
        payload=canonical_json(update),
        chat_id=chat_id,
        kind=update_kind(update),
        sent_at=float(date) if isinstance(date, int) and not isinstance(date, bool) else None,
    )


def _name(message_or_query: Message | CallbackQuery) -> str:
    user = message_or_query.from_user
    return user.full_name if user is not None else ""


class TelegramChannel:
    """The channel side of the inbound worker (`decode`, `reply`) and the scheduler's
    way out (`deliver`)."""

    def __init__(self, bot: Bot, sender: TelegramSender, messages: Messages) -> None:
        self._bot = bot
        self._sender = sender
        self._messages = messages

    def menu(self) -> list[BotCommand]:
        say = self._messages.render
        return [BotCommand(command=name, description=say(f"cmd_{name}")) for name in MENU_COMMANDS]

    async def decode(self, row: InboundUpdate) -> Decoded:
        raw = json.loads(row.payload)
        try:
            update = Update.model_validate(raw, context={"bot": self._bot})
        except ValidationError:
            # One line, with no text or names: the update is kept in the journal.
            log.warning("telegram update %s (%s) could not be read", row.platform_id, row.kind)
            chat_id, chat_type = _chat_of(raw)
            if chat_id and chat_type == ChatType.PRIVATE:
                return Decoded(Notice(chat_id, "unreadable_update"), readable=False)
            return Decoded(Ignore("unreadable"), readable=False)
        if update.message is not None:
            return self._message(update.message)
        if update.callback_query is not None:
            return self._callback(update.callback_query)
        if update.my_chat_member is not None:
            return self._membership(update.my_chat_member)
        return Decoded(Ignore(f"update kind {row.kind}"))

    def _message(self, message: Message) -> Decoded:
        chat_id = str(message.chat.id)
        if message.chat.type != ChatType.PRIVATE:
            starts = (message.text or "").split("@", 1)[0].split(" ", 1)[0] == "/start"
            return Decoded(Ignore("group"), after=self._leave(chat_id, with_link=starts))
        name = _name(message)
        kind = message.content_type
        if kind == ContentType.TEXT:
            return Decoded(Handle(Inbound(CHANNEL, chat_id, message.text or "", None, name)))
        if kind == ContentType.DOCUMENT:
            return Decoded(Notice(chat_id, "document_not_supported", name))
        if kind in MEDIA:
            caption = message.caption or ""
            inbound = Inbound(CHANNEL, chat_id, caption, None, name, has_media=not caption)
            return Decoded(Handle(inbound))
        return Decoded(Ignore(f"service message {kind}"))

    def _callback(self, query: CallbackQuery) -> Decoded:
        answer = self._answer(query)
        # A message too old for the bot to see is an InaccessibleMessage: it still says
        # which chat the button was in, but can't be edited.
        message = query.message
        if message is not None and message.chat.type != ChatType.PRIVATE:
            return Decoded(Ignore("group"), before=answer, after=self._leave(str(message.chat.id)))
        chat_id = str(message.chat.id if message is not None else query.from_user.id)
        inbound = Inbound(CHANNEL, chat_id, payload=query.data or "", display_name=_name(query))
        target = str(message.message_id) if isinstance(message, Message) else None
        return Decoded(Handle(inbound, edit_target=target), before=answer)

    def _membership(self, update: ChatMemberUpdated) -> Decoded:
        chat_id = str(update.chat.id)
        status = update.new_chat_member.status
        if update.chat.type == ChatType.PRIVATE:
            return Decoded(Reachability(chat_id, blocked=status == "kicked"))
        if status in ("member", "administrator"):
            return Decoded(Ignore("added to a group"), after=self._leave(chat_id))
        return Decoded(Ignore("group membership"))

    def _answer(self, query: CallbackQuery) -> Action:
        async def answer() -> None:
            # Right away: it stops the spinner on the user's button.
            await self._sender.call(str(query.from_user.id), lambda: query.answer())

        return answer

    def _leave(self, chat_id: str, with_link: bool = False) -> Action:
        async def leave() -> None:
            if with_link:
                me = await self._bot.me()
                link = f"https://t.me/{me.username}?start={GROUP_START_PAYLOAD}"
                await self._sender.send(
                    chat_id, Reply(self._messages.render("group_only_private", link=link))
                )
            await self._sender.call(chat_id, lambda: self._bot.leave_chat(chat_id=int(chat_id)))
            log.info("left a telegram group")

        return leave

    merges_replies = False  # each reply is its own Telegram message, in order

    async def reply(
        self, chat_id: str, replies: Sequence[Reply], edit_target: str | None
    ) -> str | None:
        # Telegram reports nothing about a message later, so no id is kept.
        for index, reply in enumerate(replies):
            await self._reply_one(chat_id, reply, edit_target if index == 0 else None)
        return None

    async def _reply_one(self, chat_id: str, reply: Reply, edit_target: str | None) -> None:
        try:
            if edit_target is not None and reply.edit:
                try:
                    if await self._sender.edit(chat_id, int(edit_target), reply):
                        return
                except TelegramBadRequest:
                    pass  # too old to edit: a fresh message reads just as well
            await self._sender.send(chat_id, reply)
        except TelegramRetryAfter as error:
            raise RetryLater(error.retry_after) from None
        except TransientTelegramError as error:
            raise TemporaryFailure(str(error)) from None

    @property
    def scheduled_per_second(self) -> float:
        return self._sender.scheduled_per_second

    async def deliver(self, chat_id: str, reply: Reply) -> str | None:
        await self._sender.deliver(chat_id, reply)
        return None
