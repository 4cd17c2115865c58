"""/start: greets the user and asks role, experience, daily time and time zone. Every step can be
skipped, and the defaults (umum, pukul 07.00, WIB) stay in place."""

from __future__ import annotations

from handlers.context import Context
from handlers.parsing import (
    format_time,
    is_skip,
    parse_time,
    parse_zone,
    shorten,
    zone_name,
)
from handlers.settings import level_buttons, reschedule, role_buttons, zone_buttons
from handlers.types import Button, Reply
from scheduler.store import reactivate
from scheduler.timing import is_quiet_time

STATE = "onboarding"
STEPS = ("role", "level", "time", "zone")
SUGGESTED_TIMES = ("06.00", "07.00", "12.00", "19.00")


def _step_reply(ctx: Context, step: str, prefix_text: str = "") -> Reply:
    skip = ctx.button("button_skip", f"v1:ob:{step}:skip")
    if step == "role":
        text, buttons = ctx.say("ask_role"), role_buttons(ctx, "v1:ob:role")
    elif step == "level":
        text, buttons = ctx.say("ask_level"), level_buttons(ctx, "v1:ob:level")
    elif step == "time":
        text = ctx.say("ask_time")
        buttons = tuple(Button(t, f"v1:ob:time:{t}") for t in SUGGESTED_TIMES)
    else:
        text, buttons = ctx.say("ask_zone"), zone_buttons("v1:ob:zone")
    if prefix_text:
        text = f"{prefix_text}\n\n{text}"
    return Reply(text, (*buttons, skip))


async def start(ctx: Context, args: str = "") -> list[Reply]:
    await reactivate(ctx.session, ctx.user, ctx.now)
    name = ctx.user.display_name or "kamu"
    greeting = ctx.say("welcome" if ctx.is_new_user else "welcome_back", name=name)
    await ctx.set_state(STATE, {"step": STEPS[0]})
    return [Reply(greeting), _step_reply(ctx, STEPS[0])]


def current_step(ctx: Context) -> str | None:
    if ctx.state is None or ctx.state.name != STATE:
        return None
    step = ctx.state.data.get("step")
    return step if step in STEPS else None


async def _advance(ctx: Context, step: str) -> list[Reply]:
    index = STEPS.index(step) + 1
    if index < len(STEPS):
        await ctx.set_state(STATE, {"step": STEPS[index]})
        return [_step_reply(ctx, STEPS[index])]
    await ctx.clear_state()
    user = ctx.user
    done = ctx.say(
        "onboarding_done",
        role=ctx.role_label(),
        time=format_time(user.daily_time),
        zone=zone_name(user.timezone),
        mode=ctx.mode_label(),
    )
    return [Reply(done, ctx.practice_or_tip_buttons())]


async def _apply(ctx: Context, step: str, value: str) -> str | None:
    """Stores the answer for a step; the key of an error message when it doesn't fit."""
    if step == "role":
        role = ctx.library.phrases().role(value)
        if role is None:
            return "bad_role"
        ctx.user.role = role
        return None
    if step == "level":
        level = ctx.library.phrases().level(value)
        if level is None:
            return "bad_level"
        ctx.user.level = level
        return None
    if step == "time":
        daily_time = parse_time(value)
        if daily_time is None:
            return "bad_time"
        if is_quiet_time(daily_time):
            return "bad_time_quiet"
        ctx.user.daily_time = daily_time
    else:
        timezone = parse_zone(value)
        if timezone is None:
            return "bad_zone"
        ctx.user.timezone = timezone
    await reschedule(ctx)
    return None


async def answer(ctx: Context, text: str) -> list[Reply]:
    """Free text while onboarding: the answer to the current step."""
    step = current_step(ctx)
    if step is None:
        return []
    if is_skip(text):
        return await _advance(ctx, step)
    error_key = await _apply(ctx, step, text)
    if error_key is None:
        return await _advance(ctx, step)
    return [_step_reply(ctx, step, ctx.say(error_key, value=shorten(text)))]


async def button(ctx: Context, payload_value: str) -> list[Reply] | None:
    """A tapped onboarding button (`step:value`); None when it doesn't belong to the
    current step."""
    step, _, value = payload_value.partition(":")
    if current_step(ctx) != step:
        return None
    if value == "skip":
        return await _advance(ctx, step)
    if await _apply(ctx, step, value) is not None:
        return None
    return await _advance(ctx, step)
