"""Builds the one message a user gets for the deliveries due together: plan steps first,
then the daily tip, with at most one practice question. Composing has no side effects;
`Effects` are applied only after the channel accepted the message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Delivery, Interview, User
from bot.db.repositories import (
    ConversationStateRepository,
    ServedItemRepository,
    StateSnapshot,
)
from content.loader import Library
from content.schema import Question
from handlers.dates import format_moment
from handlers.parsing import zone_name
from handlers.picker import next_question, next_tip
from handlers.practice import STATE as PRACTICE_STATE
from handlers.types import Button, Reply
from scheduler.plan import countdown, fill_time_left
from scheduler.store import decode_reply
from scheduler.timing import local

SEPARATOR = "\n\n— — —\n\n"
KIND_ORDER = {"reply": 0, "plan": 1, "nudge": 2, "tip": 3}
PRACTICE_KEPT = timedelta(hours=1)
FLOW_ABANDONED = timedelta(days=1)


@dataclass
class Effects:
    served: list[tuple[str, str]] = field(default_factory=list)  # (kind, item id)
    practice: tuple[str, str] | None = None  # (question id, mode)


async def apply_effects(
    session: AsyncSession, effects: Mapping[int, Effects], now: datetime
) -> None:
    """Applies the effects of a batch of sent messages, by user id, in a few statements
    for the whole batch: they run while the batch's marks hold SQLite's write lock."""
    await ServedItemRepository(session).record_many(
        [
            (user_id, kind, item_id)
            for user_id, done in effects.items()
            for kind, item_id in done.served
        ],
        now,
    )
    practice = {user_id: done.practice for user_id, done in effects.items() if done.practice}
    if not practice:
        return
    states = ConversationStateRepository(session)
    current = await states.get_many(practice)
    await states.set_many(
        {
            user_id: (PRACTICE_STATE, {"question_id": question_id, "mode": mode})
            for user_id, (question_id, mode) in practice.items()
            if _busy_with(current.get(user_id), now) is None
        },
        now,
    )


def step_title(
    library: Library, title: str, due_at: datetime, starts_at: datetime, timezone: str
) -> str:
    """'H-3 · Riset perusahaan', counted from when the step is really sent, so a step
    squeezed into a shorter plan never claims the wrong day."""
    title = fill_time_left(title, due_at, starts_at)
    days = countdown(due_at, starts_at, timezone)
    if days is None:
        return title
    say = library.messages.render
    label = say("plan_day_of") if days == 0 else say("plan_days_left", days=days)
    return say("plan_title", countdown=label, title=title)


def _busy_with(state: StateSnapshot | None, now: datetime) -> str | None:
    """What the user's next message would answer, if the daily question must not take
    its place: a flow they are in the middle of (onboarding, an interview registration)
    or a practice question they were just asked. A flow left for a day is abandoned, and
    an older practice question is replaced by the daily one."""
    if state is None:
        return None
    age = now - state.updated_at
    if state.name == PRACTICE_STATE:
        return state.name if age < PRACTICE_KEPT else None
    return state.name if age < FLOW_ABANDONED else None


async def _question(
    session: AsyncSession,
    library: Library,
    user: User,
    mode: str,
    effects: Effects,
    now: datetime,
) -> Question | None:
    if _busy_with(await ConversationStateRepository(session).get(user.id), now) is not None:
        # Their next message answers something else, so a question would go unanswered.
        return None
    question = await next_question(ServedItemRepository(session), library, user, mode)
    if question is not None:
        effects.served.append(("question", question.id))
        effects.practice = (question.id, mode)
    return question


async def compose(
    session: AsyncSession, library: Library, user: User, rows: list[Delivery], now: datetime
) -> tuple[Reply | None, Effects]:
    say = library.messages.render
    effects = Effects()
    parts: list[str] = []
    buttons: list[Button] = []
    practice_mode: str | None = None
    resting = False  # the evening before: no question, whatever else is due with it
    steps = {step.id: step for step in library.plan}

    waiting = sorted((r for r in rows if r.kind == "reply"), key=lambda r: (r.created_at, r.id))
    late_replies = [decode_reply(row.payload) for row in waiting]
    if late_replies:
        texts = "\n\n".join(reply.text for reply in late_replies)
        parts.append(f"{say('reply_late')}\n\n{texts}")
        buttons.extend(button for reply in late_replies for button in reply.buttons)

    for row in sorted(rows, key=lambda r: (KIND_ORDER[r.kind], r.due_at)):
        if row.kind == "plan":
            step = steps.get(row.item_id)
            interview = await session.get(Interview, row.interview_id) if row.interview_id else None
            if step is None or interview is None:
                continue
            when = format_moment(
                local(interview.starts_at, user.timezone), zone_name(user.timezone)
            )
            header = say("plan_header", mode=say(f"label_mode_{interview.mode}"), when=when)
            sent_at = max(now, row.due_at)
            title = step_title(library, step.title, sent_at, interview.starts_at, user.timezone)
            text = fill_time_left(step.text, sent_at, interview.starts_at)
            parts.append(f"{header}\n\n{title}\n\n{text}\n\n👉 {step.action}")
            if step.rest:
                resting = True
            elif step.practice:
                practice_mode = practice_mode or interview.mode
            if step.offer_user_round:
                buttons.append(Button(say("button_register_user_round"), "v1:iv:user"))
        elif row.kind == "nudge":
            parts.append(say("nudge_backoff"))
        elif row.kind == "tip":
            tip = await next_tip(ServedItemRepository(session), library, user)
            if tip is not None:
                effects.served.append(("tip", tip.id))
                parts.append(f"{say('daily_header')}\n\n{tip.message}")
            practice_mode = practice_mode or user.mode

    if practice_mode is not None and not resting:
        question = await _question(session, library, user, practice_mode, effects, now)
        if question is not None:
            parts.append(say("daily_question", question=question.text))
    if not parts:
        return None, effects
    return Reply(SEPARATOR.join(parts), tuple(buttons)), effects
