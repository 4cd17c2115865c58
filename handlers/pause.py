"""/jeda and /lanjut: pause and resume the daily messages (plan steps keep going)."""

from __future__ import annotations

from bot.db.schedule import DeliveryRepository
from handlers.context import Context
from handlers.parsing import format_time, zone_name
from handlers.types import Reply


async def pause(ctx: Context, args: str = "") -> list[Reply]:
    if ctx.user.paused:
        return [Reply(ctx.say("pause_already"))]
    ctx.user.paused = True
    await DeliveryRepository(ctx.session).delete_pending(ctx.user.id, kind="tip")
    return [Reply(ctx.say("pause_done"))]


async def resume(ctx: Context, args: str = "") -> list[Reply]:
    values = {"time": format_time(ctx.user.daily_time), "zone": zone_name(ctx.user.timezone)}
    if not ctx.user.paused:
        return [Reply(ctx.say("resume_already", **values))]
    ctx.user.paused = False
    return [Reply(ctx.say("resume_done", **values))]
