"""/mode hr|user: switches what tips, questions and feedback focus on."""

from __future__ import annotations

from handlers import practice
from handlers.context import Context
from handlers.parsing import parse_mode, shorten
from handlers.types import Reply


async def switch(ctx: Context, args: str = "") -> list[Reply]:
    buttons = (
        ctx.button("button_mode_hr", "v1:mode:hr"),
        ctx.button("button_mode_user", "v1:mode:user"),
    )
    if not args:
        return [Reply(ctx.say("mode_current", mode=ctx.mode_label()), buttons)]
    mode = parse_mode(args)
    if mode is None:
        return [Reply(ctx.say("bad_mode", value=shorten(args)), buttons)]
    if mode == ctx.user.mode:
        return [Reply(ctx.say("mode_unchanged", mode=ctx.mode_label()))]
    ctx.user.mode = mode
    key = "mode_switched_hr" if mode == "hr" else "mode_switched_user"
    text = ctx.say(key, role=ctx.role_label())
    switched = Reply(text, ctx.practice_or_tip_buttons(), edit=bool(ctx.inbound.payload))
    if practice.awaiting_answer(ctx):
        # The open question stays open (it keeps the round it was asked in): an answer
        # typed next still gets its feedback, and /latihan replaces it.
        return [switched, Reply(ctx.say("practice_still_open"))]
    return [switched]
