"""/tips: one tip now, for the current mode and role."""

from __future__ import annotations

from handlers.context import Context
from handlers.picker import pick_next
from handlers.types import Reply


async def send_tip(ctx: Context, args: str = "") -> list[Reply]:
    user = ctx.user
    pool = [tip for tip in ctx.library.tips if tip.fits(user.mode, user.role)]
    tip = pick_next(pool, await ctx.served.last_served(user.id, "tip"), user.id)
    if tip is None:
        return [Reply(ctx.say("practice_no_questions"))]
    await ctx.served.record(user.id, "tip", tip.id, ctx.now)
    text = ctx.say("tip_header", mode=ctx.mode_label()) + "\n\n" + tip.message
    buttons = (
        ctx.button("button_more_tips", "v1:tips:more"),
        ctx.button("button_practice", "v1:latihan:next"),
    )
    return [Reply(text, buttons)]
