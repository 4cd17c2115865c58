"""The countdown plan: turns the plan steps in content into due times for one interview.

Steps `days_before` go out at the user's daily time on that day. When fewer days are
left than the plan needs, missed steps of priority 1-2 are squeezed into the days that
remain (at most two steps a day, sent as one message); a missed priority-1 step with no
room left joins the first remaining day, or, with no day left, goes out as soon as quiet
hours allow. Steps around the interview itself are
moved out of quiet hours, and nothing meant for before the interview is due after it.

Coherence: a step of the day before (`days_before: 1`, which says "besok" and "malam
ini") goes out on that day or not at all; nothing is squeezed into the day of the `rest`
step ("stop studying"), and that day's daily question is left out (compose); an
hours-before step says the time really left when it is sent (`{time_left}`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from content.schema import PlanStep
from scheduler.timing import (
    at_local,
    is_quiet_time,
    last_allowed_before,
    local,
    next_quiet_end,
)

MAX_STEPS_PER_DAY = 2
SQUEEZE_MAX_PRIORITY = 2
AFTER_STEP_VALIDITY = timedelta(days=3)
FALLBACK_DAILY_TIME = time(7, 0)


@dataclass(frozen=True)
class PlannedStep:
    step: PlanStep
    due_at: datetime
    expires_at: datetime


def daily_slot(day: date, daily_time: time, timezone: str) -> datetime:
    value = FALLBACK_DAILY_TIME if is_quiet_time(daily_time) else daily_time
    return at_local(day, value, timezone)


def build_plan(
    steps: list[PlanStep],
    *,
    mode: str,
    starts_at: datetime,
    timezone: str,
    daily_time: time,
    now: datetime,
    closed_days: frozenset[date] = frozenset(),
) -> list[PlannedStep]:
    """`closed_days` already got their plan message: missed steps are not squeezed in."""
    mine = [step for step in steps if mode in step.rounds]
    interview_day = local(starts_at, timezone).date()
    today = local(now, timezone).date()
    planned: list[PlannedStep] = []
    per_day: Counter[date] = Counter()
    missed: list[PlanStep] = []

    def slot(day: date) -> datetime:
        return daily_slot(day, daily_time, timezone)

    before_days = [s for s in mine if s.days_before is not None]
    eve = interview_day - timedelta(days=1)
    for step in sorted(before_days, key=lambda s: -(s.days_before or 0)):
        day = interview_day - timedelta(days=step.days_before or 0)
        if now < slot(day) < starts_at:
            planned.append(PlannedStep(step, slot(day), starts_at))
            per_day[day] += 1
        elif step.days_before != 1:
            # The day before's steps say "besok" and "malam ini": on any other day they
            # would not be true, so a missed one is dropped.
            missed.append(step)
    # After "stop studying" nothing asks for study: no missed step is squeezed into it.
    rest_day = eve if any(p.step.rest for p in planned) else None

    open_days = [
        today + timedelta(days=offset)
        for offset in range((interview_day - today).days)
        if now < slot(today + timedelta(days=offset)) < starts_at
        and today + timedelta(days=offset) not in closed_days
        and today + timedelta(days=offset) != rest_day
    ]
    squeezed = sorted(
        (s for s in missed if s.priority <= SQUEEZE_MAX_PRIORITY),
        key=lambda s: (s.priority, -(s.days_before or 0)),
    )
    for step in squeezed:
        free = next((d for d in open_days if per_day[d] < MAX_STEPS_PER_DAY), None)
        if free is None and step.priority == 1 and open_days:
            # Essential: it joins the first day's message rather than pinging on its own.
            free = open_days[0]
        if free is not None:
            planned.append(PlannedStep(step, slot(free), starts_at))
            per_day[free] += 1
        elif step.priority == 1:
            soon = next_quiet_end(now, timezone)
            if soon < starts_at and local(soon, timezone).date() != rest_day:
                planned.append(PlannedStep(step, soon, starts_at))

    for step in mine:
        if step.hours_before is not None:
            due = starts_at - timedelta(hours=step.hours_before)
            if next_quiet_end(due, timezone) < starts_at:
                due = next_quiet_end(due, timezone)
            else:
                due = last_allowed_before(due, timezone)
            due = max(due, next_quiet_end(now, timezone))
            if due < starts_at:
                planned.append(PlannedStep(step, due, starts_at))
        elif step.hours_after is not None:
            due = next_quiet_end(starts_at + timedelta(hours=step.hours_after), timezone)
            planned.append(PlannedStep(step, due, due + AFTER_STEP_VALIDITY))

    return sorted(planned, key=lambda p: (p.due_at, p.step.id))


TIME_LEFT = "{time_left}"


def time_left(moment: datetime, starts_at: datetime) -> str:
    """'2 jam', '1 jam 30 menit', '45 menit': from the moment to the interview, to the
    nearest 5 minutes."""
    minutes = max(5, round((starts_at - moment).total_seconds() / 300) * 5)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} jam"] if hours else []
    if minutes:
        parts.append(f"{minutes} menit")
    return " ".join(parts)


def fill_time_left(text: str, moment: datetime, starts_at: datetime) -> str:
    """An hours-before step says how long is left when it is sent, not when it was
    planned: quiet hours or a late dispatch can move it."""
    return text.replace(TIME_LEFT, time_left(moment, starts_at)) if TIME_LEFT in text else text


def countdown(due_at: datetime, starts_at: datetime, timezone: str) -> int | None:
    """Days from the message to the interview in the user's calendar (0 on the day), or
    None for messages after the interview."""
    if due_at >= starts_at:
        return None
    return (local(starts_at, timezone).date() - local(due_at, timezone).date()).days
