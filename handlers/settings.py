"""/peran, /pengingat and /zona: the user's role track, daily time and time zone."""

from __future__ import annotations

from bot.db.schedule import DeliveryRepository, InterviewRepository
from content.schema import LEVELS
from handlers.context import Context
from handlers.dates import format_moment
from handlers.parsing import (
    ZONES,
    format_time,
    parse_time,
    parse_zone,
    shorten,
    zone_name,
)
from handlers.types import Button, Reply
from scheduler.store import reschedule_plans
from scheduler.timing import is_quiet_time, local

ROLE_ORDER = ("umum", "developer", "qa", "data")


async def reschedule(ctx: Context) -> None:
    """After a new daily time or zone: drops daily messages planned for the old time (the
    planner writes new ones) and moves the coming plan steps of every interview."""
    await DeliveryRepository(ctx.session).delete_pending(ctx.user.id, kind="tip")
    await reschedule_plans(ctx.session, ctx.library, ctx.user, ctx.now)


def role_buttons(ctx: Context, prefix: str) -> tuple[Button, ...]:
    return tuple(ctx.button(f"label_role_{role}", f"{prefix}:{role}") for role in ROLE_ORDER)


def level_buttons(ctx: Context, prefix: str) -> tuple[Button, ...]:
    return tuple(ctx.button(f"label_level_{level}", f"{prefix}:{level}") for level in LEVELS)


def zone_buttons(prefix: str) -> tuple[Button, ...]:
    return tuple(Button(name, f"{prefix}:{name}") for name in ZONES)


async def role(ctx: Context, args: str = "") -> list[Reply]:
    if not args:
        text = ctx.say("role_current", role=ctx.role_label())
        return [Reply(text, role_buttons(ctx, "v1:role"))]
    new_role = ctx.library.phrases().role(args)
    if new_role is None:
        return [Reply(ctx.say("bad_role", value=shorten(args)), role_buttons(ctx, "v1:role"))]
    ctx.user.role = new_role
    return [Reply(ctx.say("role_set", role=ctx.role_label()), edit=bool(ctx.inbound.payload))]


async def level(ctx: Context, args: str = "") -> list[Reply]:
    if not args:
        text = ctx.say("level_current", level=ctx.level_label())
        return [Reply(text, level_buttons(ctx, "v1:level"))]
    new_level = ctx.library.phrases().level(args)
    if new_level is None:
        return [Reply(ctx.say("bad_level", value=shorten(args)), level_buttons(ctx, "v1:level"))]
    ctx.user.level = new_level
    return [Reply(ctx.say("level_set", level=ctx.level_label()), edit=bool(ctx.inbound.payload))]


async def reminder(ctx: Context, args: str = "") -> list[Reply]:
    zone = zone_name(ctx.user.timezone)
    if not args:
        return [Reply(ctx.say("time_current", time=format_time(ctx.user.daily_time), zone=zone))]
    new_time = parse_time(args)
    if new_time is None:
        return [Reply(ctx.say("bad_time", value=shorten(args)))]
    if is_quiet_time(new_time):
        return [Reply(ctx.say("bad_time_quiet", value=format_time(new_time)))]
    ctx.user.daily_time = new_time
    await reschedule(ctx)
    return [Reply(ctx.say("time_set", time=format_time(new_time), zone=zone))]


async def zone(ctx: Context, args: str = "") -> list[Reply]:
    if not args:
        text = ctx.say("zone_current", zone=zone_name(ctx.user.timezone))
        return [Reply(text, zone_buttons("v1:zone"))]
    timezone = parse_zone(args)
    if timezone is None:
        return [Reply(ctx.say("bad_zone", value=shorten(args)), zone_buttons("v1:zone"))]
    before = ctx.user.timezone
    ctx.user.timezone = timezone
    await reschedule(ctx)
    text = ctx.say("zone_set", zone=zone_name(timezone), time=format_time(ctx.user.daily_time))
    replies = [Reply(text, edit=bool(ctx.inbound.payload))]
    kept = await _interviews_kept(ctx, before, timezone)
    return replies if kept is None else [*replies, kept]


async def _interviews_kept(ctx: Context, before: str, after: str) -> Reply | None:
    """A new zone does not move a registered interview, and the user is told how each
    one reads now, so that one registered in the wrong zone can be fixed."""
    if before == after:
        return None
    upcoming = [
        i
        for i in await InterviewRepository(ctx.session).upcoming(ctx.user.id, ctx.now)
        if i.starts_at > ctx.now
    ]
    if not upcoming:
        return None
    lines = [
        ctx.say(
            "zone_interview_line",
            mode=ctx.mode_label(interview.mode),
            before=format_moment(local(interview.starts_at, before), zone_name(before)),
            after=f"{local(interview.starts_at, after):%H.%M} {zone_name(after)}",
        )
        for interview in upcoming
    ]
    return Reply(ctx.say("zone_interviews_kept", interviews="\n".join(lines)))
