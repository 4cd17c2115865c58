"""/tanya_balik: good questions to ask the interviewer, for the round of the current mode."""

from __future__ import annotations

from handlers.context import Context
from handlers.picker import pick_next
from handlers.types import Reply

QUESTIONS_PER_REPLY = 3


async def show(ctx: Context, args: str = "") -> list[Reply]:
    user = ctx.user
    pool = [item for item in ctx.library.ask_back if item.round == user.mode]
    last_served = await ctx.served.last_served(user.id, "ask_back")
    chosen = []
    for _ in range(min(QUESTIONS_PER_REPLY, len(pool))):
        item = pick_next([i for i in pool if i not in chosen], last_served, user.id)
        if item is None:
            break
        chosen.append(item)
        await ctx.served.record(user.id, "ask_back", item.id, ctx.now)
    lines = [ctx.say("ask_back_header", round=ctx.mode_label())]
    lines += [ctx.say("ask_back_item", text=item.text, why=item.why) for item in chosen]
    return [Reply("\n\n".join(lines), (ctx.button("button_more_ask_back", "v1:tanya:more"),))]
