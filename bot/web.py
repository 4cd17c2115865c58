"""The one aiohttp app that serves webhooks, `/healthz` and `/metrics`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
TELEGRAM_WEBHOOK_PATH = "/webhook/telegram"
WHATSAPP_WEBHOOK_PATH = "/webhook/whatsapp"

# A health probe returns what is wrong, or None when all is well.
Probe = Callable[[], Awaitable[str | None]]


def build_web_app(engine: AsyncEngine, probes: Sequence[Probe] = ()) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        problems = [problem for probe in probes if (problem := await probe()) is not None]
        if problems:
            return web.json_response({"status": "error", "problems": problems}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics_page(_request: web.Request) -> web.Response:
        # The journal lag may be unreadable (the database is down); the page is served
        # all the same, since the counters are what tells the operator what went wrong.
        await metrics.refresh_journal_lag()
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )

    app = web.Application(client_max_size=1024**2)
    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_get(METRICS_PATH, metrics_page)
    return app
