"""The baseline for `benchmarks.webhook` and `benchmarks.startup`: the smallest aiogram 3.31
bot in webhook mode, as aiogram's own example writes it (`SimpleRequestHandler` and
`setup_application` on aiohttp, one message handler that answers with the same text),
plus `GET /healthz`. No database, no journal, no send limiter.

    .venv/bin/python -m benchmarks.echo_bot --port 8081 --api-url http://127.0.0.1:PORT \\
        --token 123456:TEST-token [--secret SECRET] [--webhook-url URL]

SIGTERM or SIGINT stops it (aiohttp's `run_app`).
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

WEBHOOK_PATH = "/webhook/telegram"
HEALTH_PATH = "/healthz"


def build_app(
    api_url: str, token: str, secret: str | None, webhook_url: str | None
) -> web.Application:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    if webhook_url:

        @dispatcher.startup()
        async def register_webhook() -> None:
            await bot.set_webhook(webhook_url, secret_token=secret)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get(HEALTH_PATH, healthz)
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dispatcher, bot=bot)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="the Bot API's base URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", default=None, help="X-Telegram-Bot-Api-Secret-Token")
    parser.add_argument("--webhook-url", default=None, help="setWebhook on start, if given")
    args = parser.parse_args()
    # As aiogram's example: INFO, so aiogram logs each handled update (as the coach logs
    # at INFO too).
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    app = build_app(args.api_url, args.token, args.secret, args.webhook_url)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
