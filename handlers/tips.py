"""/tips: one tip now, for the current mode and role."""

from __future__ import annotations

from handlers.context import Context
from handlers.picker import next_tip
from handlers.types import Reply


async def send_tip(ctx: Context, args: str = "") -> list[Reply]:
    tip = await next_tip(ctx.served, ctx.library, ctx.user)
    if tip is None:
        return [Reply(ctx.say("no_content"))]
    await ctx.served.record(ctx.user.id, "tip", tip.id, ctx.now)
    text = ctx.say("tip_header", mode=ctx.mode_label()) + "\n\n" + tip.message
    buttons = (
        ctx.button("button_more_tips", "v1:tips:more"),
        ctx.button("button_practice", "v1:latihan:next"),
    )
    return [Reply(text, buttons)]
