"""The front door of the conversation: one `Inbound` in, the replies out.

Commands (with or without "/", any case), button payloads and free text (by conversation
state) are routed to handlers. Each message runs in one database transaction, so a failure
leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.db.repositories import ConversationStateRepository, UserRepository
from bot.db.schedule import DeliveryRepository
from content.loader import Library
from content.schema import LEVELS, MODES, ROLES
from handlers import (
    ask_back,
    help,
    interview,
    mode,
    onboarding,
    pause,
    practice,
    settings,
    tips,
)
from handlers.context import Context
from handlers.parsing import ZONES, clean_text, format_number
from handlers.types import Inbound, Reply
from scheduler.planner import NOTE_NEEDS_SILENCE

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_NAME_CHARS = 128
PAYLOAD_VERSION = "v1"
MAX_PAYLOAD_BYTES = 64  # Telegram's limit for callback data
# While a practice answer is awaited, "tips" or "mode hr" still work without "/".
MAX_PRACTICE_COMMAND_WORDS = 2

Handler = Callable[[Context, str], Awaitable[list[Reply]]]


@dataclass(frozen=True, slots=True)
class Command:
    handler: Handler
    # How many words may follow the command when it is typed without "/"; more than that
    # and the message is free text (an answer that happens to start with "tips ...").
    max_args: int
    # While a practice answer is awaited, a longer command typed without "/" counts only
    # when its arguments make sense ("interview besok jam 10", not "interview terakhir
    # saya gagal ...").
    sensible_args: Callable[[Context, str], bool] = lambda ctx, args: False
    # It starts a flow of its own, which would replace an interview waiting to be saved.
    replaces_flow: bool = False


COMMANDS: dict[str, Command] = {
    "start": Command(onboarding.start, 0, replaces_flow=True),
    "mode": Command(mode.switch, 1),
    "tips": Command(tips.send_tip, 0),
    "latihan": Command(practice.ask, 0, replaces_flow=True),
    "peran": Command(
        settings.role, 2, lambda ctx, args: ctx.library.phrases().role(args) is not None
    ),
    "level": Command(
        settings.level, 4, lambda ctx, args: ctx.library.phrases().level(args) is not None
    ),
    "pengingat": Command(settings.reminder, 3),
    "zona": Command(settings.zone, 1),
    "tanya_balik": Command(ask_back.show, 0),
    "bantuan": Command(help.show_help, 0),
    "interview": Command(interview.register, 6, interview.reads_as_a_date, replaces_flow=True),
    "jadwal": Command(interview.schedule, 0),
    "batal": Command(interview.cancel, 0),
    "jeda": Command(pause.pause, 0),
    "lanjut": Command(pause.resume, 0),
}
ALIASES = {
    "help": "bantuan",
    "menu": "bantuan",
    "tanyabalik": "tanya_balik",
    "tip": "tips",
    "jadwalku": "jadwal",
    "pause": "jeda",
    "stop": "jeda",
    "resume": "lanjut",
}
# Multi-step flows that a new command abandons (the practice question is not one: it
# stays open until answered or replaced).
FLOW_STATES = (onboarding.STATE, *interview.STATES)


# A button handler returns None when the tap no longer applies (stale or forged).
ButtonHandler = Callable[[Context, str], Awaitable[list[Reply] | None]]


async def run_command(ctx: Context, name: str, args: str = "") -> list[Reply]:
    command = COMMANDS[name]
    # An interview waiting to be saved is never dropped by another command: one that would
    # start a flow of its own waits until it is saved or discarded, any other runs and the
    # draft is shown again under it.
    waiting = "/" + name if command.replaces_flow else None
    draft = interview.draft_reminder(ctx, waiting)
    if draft is not None:
        return [draft] if waiting else [*await command.handler(ctx, args), draft]
    stopped = None
    if ctx.state is not None and ctx.state.name in FLOW_STATES:
        # A command mid-flow runs at once and ends the flow; onboarding answers given so
        # far are kept and the rest stay at their defaults. A registration that had no
        # time yet is said to be stopped, so that nothing ends without a word.
        if ctx.state.name in interview.STATES and name != "interview":
            stopped = Reply(ctx.say("interview_registration_stopped"))
        await ctx.clear_state()
    replies = await command.handler(ctx, args)
    return replies if stopped is None else [*replies, stopped]


def _one_of(*values: str) -> Callable[[str], bool]:
    return frozenset(values).__contains__


@dataclass(frozen=True, slots=True)
class ButtonAction:
    allowed: Callable[[str], bool]
    handler: ButtonHandler


BUTTONS: dict[str, ButtonAction] = {
    "mode": ButtonAction(_one_of(*MODES), mode.switch),
    "role": ButtonAction(_one_of(*ROLES), settings.role),
    "level": ButtonAction(_one_of(*LEVELS), settings.level),
    "zone": ButtonAction(_one_of(*ZONES), settings.zone),
    "tips": ButtonAction(_one_of("more"), tips.send_tip),
    "latihan": ButtonAction(practice.button_allowed, practice.button),
    "tanya": ButtonAction(_one_of("more"), ask_back.show),
    "ob": ButtonAction(lambda v: v.count(":") == 1, onboarding.button),
    "iv": ButtonAction(_one_of("save", "discard", "user"), interview.button),
    "batal": ButtonAction(lambda v: v == "no" or v.isdigit(), interview.cancel_chosen),
    # "Maksudmu /latihan?" under a mistyped command.
    "cmd": ButtonAction(COMMANDS.__contains__, run_command),
}


def parse_command(text: str) -> tuple[str, str] | None:
    """(command name, arguments) when the text is a command; the name may be unknown
    only when the user typed a "/"."""
    head, _, rest = text.partition(" ") if " " in text else text.partition("\n")
    args = " ".join(rest.split())
    if head.startswith("/"):
        name = head[1:].split("@", 1)[0].casefold()
        return ALIASES.get(name, name), args
    name = ALIASES.get(head.casefold(), head.casefold())
    command = COMMANDS.get(name)
    if command is None or len(args.split()) > command.max_args:
        return None
    return name, args


def _flow_claims_word(ctx: Context, text: str) -> bool:
    """A yes or no at the interview confirmation, which no phrase may take."""
    confirming = ctx.state is not None and ctx.state.name == interview.CONFIRM
    return confirming and interview.is_yes_or_no(text)


def _flow_claims(ctx: Context, text: str, name: str, args: str) -> bool:
    """A word typed without "/" that the open flow expects as its answer, not a command:
    "batal" at the interview confirmation, or a practice answer that happens to start
    with a command word ("Interview terakhir saya gagal karena ...")."""
    if ctx.state is None:
        return False
    if ctx.state.name == interview.CONFIRM:
        return _flow_claims_word(ctx, text)
    if ctx.state.name == practice.STATE and len(text.split()) > MAX_PRACTICE_COMMAND_WORDS:
        return not COMMANDS[name].sensible_args(ctx, args)
    return False


class Coach:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: Library,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock

    @property
    def library(self) -> Library:
        return self._library

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handles one message in a transaction of its own; a failure rolls it back and
        gets an apology."""
        try:
            async with self._sessions() as session, session.begin():
                return await self.handle_in(session, inbound)
        except Exception:
            # The user's text is not logged.
            log.exception("handler failed for %s chat %s", inbound.channel, inbound.chat_id)
            return [self.apology()]

    async def handle_in(self, session: AsyncSession, inbound: Inbound) -> list[Reply]:
        """Handles one message inside the caller's transaction, so the caller can store
        more with it (the inbound journal's mark, the replies to send). When it raises,
        the caller rolls back and may answer with `apology()`."""
        return await self._handle(session, inbound)

    def apology(self) -> Reply:
        return Reply(self._library.messages.render("error"))

    async def _handle(self, session: AsyncSession, inbound: Inbound) -> list[Reply]:
        now = self._clock()
        name = clean_text(inbound.display_name)[:MAX_NAME_CHARS]
        user, is_new = await UserRepository(session).get_or_create(
            inbound.channel, inbound.chat_id, name, now
        )
        if not is_new and now - user.last_active_at >= NOTE_NEEDS_SILENCE:
            # The user is back: a pending "I'll write less often" note is no longer true.
            await DeliveryRepository(session).delete_pending(user.id, kind="nudge")
        user.last_active_at = now
        if name and user.display_name != name:
            user.display_name = name
        # A user made just now has no conversation yet.
        state = None if is_new else await ConversationStateRepository(session).get(user.id)
        ctx = Context.build(session, inbound, user, state, is_new, self._library, now)
        if inbound.payload is not None:
            return await self._route_button(ctx, inbound.payload)
        if inbound.has_media and not inbound.text.strip():
            return [Reply(ctx.say("media_not_supported"))]
        return await self._route_text(ctx, clean_text(inbound.text))

    async def _route_text(self, ctx: Context, text: str) -> list[Reply]:
        if not text:
            return [Reply(ctx.say("empty_message"))]
        if len(text) > MAX_MESSAGE_CHARS:
            length, limit = format_number(len(text)), format_number(MAX_MESSAGE_CHARS)
            return [Reply(ctx.say("too_long", length=length, limit=limit))]
        phrases = ctx.library.phrases()
        parsed = parse_command(text)
        if parsed is not None and not text.startswith("/") and _flow_claims(ctx, text, *parsed):
            parsed = None
        if parsed is None and not text.startswith("/") and not _flow_claims_word(ctx, text):
            said = phrases.command(text)  # "mau latihan", "ganti ke mode user"
            if said is not None:
                name, _, args = said.partition(" ")
                parsed = ALIASES.get(name, name), args
        if parsed is not None:
            name, args = parsed
            if name not in COMMANDS:
                return await help.unknown_command(ctx, name, COMMANDS)
            return await run_command(ctx, name, args)
        if onboarding.current_step(ctx) is not None:
            return await onboarding.answer(ctx, text)
        if ctx.state is not None and ctx.state.name in interview.STATES:
            return await interview.answer(ctx, text)
        # Small talk is never an answer, so it is answered even with a practice question
        # open, and the question stays open.
        waiting = practice.awaiting_answer(ctx)
        short = phrases.reply(text)
        if short is not None:
            if waiting:
                return [Reply(short.text), Reply(ctx.say("practice_still_open"))]
            return [Reply(short.text, ctx.practice_or_tip_buttons() if short.buttons else ())]
        if phrases.is_greeting(text):
            greeting = await help.greet(ctx)
            return [*greeting, Reply(ctx.say("practice_still_open"))] if waiting else greeting
        if ctx.state is not None and ctx.state.name == practice.STATE:
            return await practice.answer(ctx, text)
        if practice.asks_for_help(ctx, text):
            return [Reply(ctx.say("practice_nothing_open"))]
        after = phrases.after_hint(text, "interview")
        if after and (started := await interview.from_sentence(ctx, after)) is not None:
            return started
        return await help.fallback(ctx, text)

    async def _route_button(self, ctx: Context, payload: str) -> list[Reply]:
        stale = [Reply(ctx.say("stale_button"))]
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            return stale
        version, _, rest = payload.partition(":")
        action, _, value = rest.partition(":")
        if version != PAYLOAD_VERSION:
            return stale
        button = BUTTONS.get(action)
        if button is None or not button.allowed(value):
            return stale
        return await button.handler(ctx, value) or stale
