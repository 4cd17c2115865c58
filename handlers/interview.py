"""/interview, /jadwal and /batal: registering interviews and their countdown plan."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from bot.db.schedule import DeliveryRepository, InterviewRepository
from handlers.context import Context
from handlers.dates import (
    NEXT_WEEK,
    PERIODS_PATTERN,
    WEEKDAYS,
    Ask,
    Invalid,
    Moment,
    NeedTime,
    Parsed,
    format_day,
    format_moment,
    names_a_day,
    parse_when,
)
from handlers.parsing import (
    PERIODS,
    ZONE_NAMES,
    ZONES,
    format_time,
    shorten,
    simplify,
    zone_name,
)
from handlers.types import Button, Reply
from scheduler.compose import step_title
from scheduler.store import schedule_interview
from scheduler.timing import local

ASK_DATE, ASK_TIME, CONFIRM = "interview_date", "interview_time", "interview_confirm"
STATES = (ASK_DATE, ASK_TIME, CONFIRM)
MAX_UPCOMING = 5
YES = {"ya", "y", "iya", "ok", "oke", "simpan", "benar", "betul", "sudah"}
NO = {"tidak", "nggak", "gak", "batal", "bukan", "salah", "belum"}
# How a correction at the confirmation starts: "bukan, ...", "eh, maksudnya ...".
_CORRECTION = re.compile(r"^(?:(?:bukan|salah|eh|ralat|maaf|maksudnya|maksudku)[\s,.:!-]*)+")
_ZONE_WORD = re.compile(r"(?<![a-z])(wita|wib|wit)(?![a-z])")
BARE_HOUR = re.compile(rf"\d{{1,2}}(?:[.:]\d{{2}})?(?:\s+(?:{PERIODS_PATTERN}))?")


def _when(ctx: Context, moment: datetime) -> str:
    return format_moment(local(moment, ctx.user.timezone), zone_name(ctx.user.timezone))


def _mode_label(ctx: Context, mode: str) -> str:
    return ctx.say(f"label_mode_{mode}")


def _split_mode(args: str, default: str) -> tuple[str, str]:
    words = simplify(args).split()
    modes = [w for w in words if w in ("hr", "user")]
    rest = " ".join(w for w in words if w not in ("hr", "user"))
    return rest, modes[-1] if modes else default


def _typed_zone(text: str) -> tuple[str, str | None]:
    """The text without a zone typed with the time ("10:30 WITA"), and that zone."""
    folded = text.casefold()
    match = _ZONE_WORD.search(folded)
    if match is None:
        return text, None
    rest = folded[: match.start()] + " " + folded[match.end() :]
    return " ".join(rest.split()), ZONES[match.group(1).upper()]


def _parse(ctx: Context, text: str, zone: str, said_at: datetime | None = None) -> Parsed:
    """`said_at`: when the words were typed, for "besok" said before midnight."""
    return parse_when(text, local(said_at or ctx.now, zone))


def _when_in(ctx: Context, moment: datetime, zone: str) -> str:
    """The moment in the zone it was given in, and in the user's own when that differs:
    "Kamis, 10 Desember 2026 pukul 10.30 WITA (09.30 WIB)"."""
    given = format_moment(local(moment, zone), zone_name(zone))
    if zone == ctx.user.timezone:
        return given
    own = local(moment, ctx.user.timezone)
    return f"{given} ({own:%H.%M} {zone_name(ctx.user.timezone)})"


def _zone_of(ctx: Context, data: Mapping[str, object]) -> str:
    zone = str(data.get("zone") or "")
    return zone if zone in ZONE_NAMES else ctx.user.timezone


async def _answer_parse(
    ctx: Context, text: str, mode: str, said_at: datetime | None = None
) -> list[Reply]:
    rest, typed = _typed_zone(text)
    zone = typed or (_zone_of(ctx, ctx.state.data) if ctx.state else ctx.user.timezone)
    return await _reply_to(ctx, _parse(ctx, rest, zone, said_at), mode, rest, zone)


def _save_or_discard(ctx: Context) -> tuple[Button, ...]:
    return (
        ctx.button("button_save", "v1:iv:save"),
        ctx.button("button_discard", "v1:iv:discard"),
    )


async def _reply_to(ctx: Context, parsed: Parsed, mode: str, asked: str, zone: str) -> list[Reply]:
    if isinstance(parsed, Moment):
        data = {"starts_at": parsed.value.isoformat(), "mode": mode, "zone": zone}
        await ctx.set_state(CONFIRM, data)
        when = _when_in(ctx, parsed.value, zone)
        text = ctx.say("interview_confirm", when=when, mode=_mode_label(ctx, mode))
        return [Reply(text, _save_or_discard(ctx))]
    if isinstance(parsed, NeedTime):
        data = {"day": parsed.day.isoformat(), "mode": mode, "zone": zone}
        await ctx.set_state(ASK_TIME, data)
        return [Reply(ctx.say("interview_ask_time", day=format_day(parsed.day)))]
    if isinstance(parsed, Ask):
        state = ctx.state if ctx.state and ctx.state.name in (ASK_DATE, ASK_TIME) else None
        data = {**(state.data if state else {}), "mode": mode, "zone": zone}
        # "jam 3" is kept, so that a plain "sore" as the answer completes it, and so is
        # "minggu depan", so that "kamis" is next week's.
        data["pending"] = asked if parsed.reason in ("ask_am_pm", "ask_which_day") else ""
        await ctx.set_state(state.name if state else ASK_DATE, data)
        return [Reply(ctx.say(f"interview_{parsed.reason}"))]
    assert isinstance(parsed, Invalid)
    return [Reply(ctx.say(f"interview_{parsed.reason}", value=parsed.detail))]


async def register(ctx: Context, args: str = "") -> list[Reply]:
    rest, mode = _split_mode(args, ctx.user.mode)
    if not rest:
        await ctx.set_state(ASK_DATE, {"mode": mode})
        return [Reply(ctx.say("interview_ask_date"))]
    return await _answer_parse(ctx, rest, mode)


async def answer(ctx: Context, text: str) -> list[Reply]:
    """Free text while registering an interview."""
    assert ctx.state is not None
    data = ctx.state.data
    mode = str(data.get("mode", ctx.user.mode))
    if ctx.state.name == CONFIRM:
        word = simplify(text)
        if word in YES:
            return await save(ctx) or []
        if word in NO:
            return await discard(ctx) or []
        corrected = await _correct(ctx, text, mode)
        return corrected or [Reply(ctx.say("interview_confirm_hint"))]
    rest, mode = _split_mode(text, mode)
    pending = str(data.get("pending", ""))
    said_at = None
    if pending and simplify(rest) in PERIODS:
        rest, said_at = f"{pending} {rest}", ctx.state.updated_at
    elif simplify(pending) in NEXT_WEEK and simplify(rest).partition(" ")[0] in WEEKDAYS:
        rest, said_at = f"{rest} {pending}", ctx.state.updated_at
    if ctx.state.name == ASK_TIME:
        day = date.fromisoformat(str(data["day"]))
        rest, typed = _typed_zone(rest)
        zone = typed or _zone_of(ctx, data)
        if BARE_HOUR.fullmatch(rest):
            rest = f"jam {rest}"  # the question was "jam berapa?": "14" means 14.00
        parsed = _parse(ctx, f"{day.isoformat()} {rest}", zone)
        only_a_period = isinstance(parsed, NeedTime) and simplify(rest) in PERIODS
        if only_a_period or (isinstance(parsed, Invalid) and parsed.reason == "unknown_date"):
            # Only a time was asked for; don't echo a date the user never typed.
            value, when = shorten(text), format_day(day)
            return [Reply(ctx.say("interview_time_only", value=value, day=when))]
        return await _reply_to(ctx, parsed, mode, rest, zone)
    return await _answer_parse(ctx, rest, mode, said_at)


async def _correct(ctx: Context, text: str, mode: str) -> list[Reply] | None:
    """A correction at the confirmation edits the draft: "jamnya 14.00" keeps the day,
    "bukan, kamis minggu depan" keeps the time, a whole date and time replaces both. None
    when the text is neither, and the confirmation is asked again."""
    assert ctx.state is not None
    rest = _CORRECTION.sub("", simplify(text)).replace("jamnya", "jam")
    if rest.isdigit():
        return None  # "1": an option picked from the buttons, not a date
    rest, mode = _split_mode(rest, mode)
    rest, typed = _typed_zone(rest)
    zone = typed or _zone_of(ctx, ctx.state.data)
    draft = local(datetime.fromisoformat(str(ctx.state.data["starts_at"])), zone)
    parsed = _parse(ctx, rest, zone)
    if isinstance(parsed, NeedTime):  # a new day, the same time
        parsed = _parse(ctx, f"{parsed.day.isoformat()} {draft:%H.%M}", zone)
    elif isinstance(parsed, Ask) and parsed.reason == "ask_date":  # a new time, the same day
        parsed = _parse(ctx, f"{draft.date().isoformat()} {rest}", zone)
    if isinstance(parsed, Invalid) and parsed.reason == "unknown_date":
        return None
    return await _reply_to(ctx, parsed, mode, rest, zone)


# "besok jam 10 sama user", "jumat jam 9 di kantor": words after the date that may be
# left off for it to read as one.
MAX_WORDS_AFTER_DATE = 3


async def from_sentence(ctx: Context, after: str) -> list[Reply] | None:
    """Starts the registration from a sentence that mentions an interview and a time
    ("aku ada interview besok jam 10 sama user"), given the words after "interview";
    None when they name no day. The date is confirmed before anything is saved."""
    rest, mode = _split_mode(after, ctx.user.mode)
    words = rest.split()
    for cut in range(min(MAX_WORDS_AFTER_DATE, max(len(words) - 1, 0)) + 1):
        kept = " ".join(words[: len(words) - cut])
        if kept and reads_as_a_date(ctx, kept):
            return await _answer_parse(ctx, kept, mode)
    return None


def reads_as_a_date(ctx: Context, args: str) -> bool:
    rest, _ = _split_mode(args, ctx.user.mode)
    rest, zone = _typed_zone(rest)
    return names_a_day(rest, local(ctx.now, zone or ctx.user.timezone))


def is_yes_or_no(text: str) -> bool:
    return simplify(text) in YES | NO


def draft_reminder(ctx: Context, waiting_command: str | None = None) -> Reply | None:
    """While an interview waits for its confirmation: that it is not saved yet, with
    Simpan and Batal; None otherwise. `waiting_command` is one that was not run because
    it would have replaced the draft."""
    if ctx.state is None or ctx.state.name != CONFIRM:
        return None
    starts_at = datetime.fromisoformat(str(ctx.state.data["starts_at"]))
    when = _when_in(ctx, starts_at, _zone_of(ctx, ctx.state.data))
    mode = _mode_label(ctx, str(ctx.state.data["mode"]))
    if waiting_command is None:
        text = ctx.say("interview_draft_open", when=when, mode=mode)
    else:
        text = ctx.say("interview_draft_blocks", when=when, mode=mode, command=waiting_command)
    return Reply(text, _save_or_discard(ctx))


async def save(ctx: Context) -> list[Reply] | None:
    if ctx.state is None or ctx.state.name != CONFIRM:
        return None
    starts_at = datetime.fromisoformat(str(ctx.state.data["starts_at"]))
    mode = str(ctx.state.data["mode"])
    when = _when_in(ctx, starts_at, _zone_of(ctx, ctx.state.data))
    await ctx.clear_state()
    interviews = InterviewRepository(ctx.session)
    upcoming = await interviews.upcoming(ctx.user.id, ctx.now)
    if starts_at <= ctx.now:
        return [Reply(ctx.say("interview_past", value=when))]
    if any(i.starts_at == starts_at for i in upcoming):
        return [Reply(ctx.say("interview_duplicate", when=when))]
    if len(upcoming) >= MAX_UPCOMING:
        return [Reply(ctx.say("interview_limit", limit=MAX_UPCOMING))]
    interview = await interviews.add(ctx.user.id, starts_at, mode, ctx.now)
    planned = await schedule_interview(ctx.session, ctx.library, interview, ctx.user, ctx.now)
    label = _mode_label(ctx, mode)
    edit = bool(ctx.inbound.payload)
    if not planned:
        return [Reply(ctx.say("interview_saved_no_steps", when=when, mode=label), edit=edit)]
    first = _when(ctx, planned[0].due_at)
    text = ctx.say("interview_saved", when=when, mode=label, count=len(planned), first=first)
    return [Reply(text, edit=edit)]


async def discard(ctx: Context) -> list[Reply] | None:
    if ctx.state is None or ctx.state.name != CONFIRM:
        return None
    await ctx.clear_state()
    return [Reply(ctx.say("interview_discarded"), edit=bool(ctx.inbound.payload))]


async def register_user_round(ctx: Context) -> list[Reply]:
    await ctx.set_state(ASK_DATE, {"mode": "user"})
    return [Reply(ctx.say("interview_register_user_round"))]


def _daily(ctx: Context) -> str:
    if ctx.user.paused:
        return ctx.say("daily_paused")
    return ctx.say(
        "daily_active", time=format_time(ctx.user.daily_time), zone=zone_name(ctx.user.timezone)
    )


async def schedule(ctx: Context, args: str = "") -> list[Reply]:
    upcoming = await InterviewRepository(ctx.session).upcoming(ctx.user.id, ctx.now)
    if not upcoming:
        return [Reply(ctx.say("schedule_empty", daily=_daily(ctx)))]
    deliveries = DeliveryRepository(ctx.session)
    lines = [ctx.say("schedule_header", daily=_daily(ctx))]
    for number, interview in enumerate(upcoming, start=1):
        lines.append("")
        lines.append(
            ctx.say(
                "schedule_interview",
                number=number,
                when=_when(ctx, interview.starts_at),
                mode=_mode_label(ctx, interview.mode),
            )
        )
        steps = await deliveries.pending_for(ctx.user.id, interview.id)
        titles = {step.id: step.title for step in ctx.library.plan}
        lines += [
            ctx.say(
                "schedule_step",
                when=_when(ctx, row.due_at),
                title=step_title(
                    ctx.library,
                    titles.get(row.item_id, ""),
                    row.due_at,
                    interview.starts_at,
                    ctx.user.timezone,
                ),
            )
            for row in steps
        ] or [ctx.say("schedule_no_steps")]
    return [Reply("\n".join(lines))]


async def cancel(ctx: Context, args: str = "") -> list[Reply]:
    upcoming = [
        i
        for i in await InterviewRepository(ctx.session).upcoming(ctx.user.id, ctx.now)
        if i.starts_at > ctx.now
    ]
    if not upcoming:
        return [Reply(ctx.say("cancel_none"))]
    if len(upcoming) == 1:
        interview = upcoming[0]
        text = ctx.say(
            "cancel_confirm",
            when=_when(ctx, interview.starts_at),
            mode=_mode_label(ctx, interview.mode),
        )
        buttons = (
            ctx.button("button_cancel_yes", f"v1:batal:{interview.id}"),
            ctx.button("button_no", "v1:batal:no"),
        )
        return [Reply(text, buttons)]
    choices = tuple(
        Button(
            f"{local(i.starts_at, ctx.user.timezone):%d/%m %H.%M} {_mode_label(ctx, i.mode)}",
            f"v1:batal:{i.id}",
        )
        for i in upcoming
    )
    return [Reply(ctx.say("cancel_pick"), (*choices, ctx.button("button_no", "v1:batal:no")))]


async def cancel_chosen(ctx: Context, value: str) -> list[Reply] | None:
    if value == "no":
        return [Reply(ctx.say("cancel_kept"), edit=True)]
    if not value.isdigit():
        return None
    interviews = InterviewRepository(ctx.session)
    interview = await interviews.get(ctx.user.id, int(value))
    if interview is None or interview.status != "scheduled" or interview.starts_at <= ctx.now:
        return None
    await interviews.cancel(interview)
    text = ctx.say(
        "cancel_done", when=_when(ctx, interview.starts_at), mode=_mode_label(ctx, interview.mode)
    )
    return [Reply(text, edit=True)]


async def button(ctx: Context, value: str) -> list[Reply] | None:
    if value == "save":
        return await save(ctx)
    if value == "discard":
        return await discard(ctx)
    return await register_user_round(ctx)
