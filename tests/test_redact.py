"""Secrets never reach the log output, whatever puts them into a record."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import redact
from bot.settings import Settings

TOKEN = "123456:AAH-very-secret-token"
WEBHOOK_SECRET = "s3cret-webhook-token"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield output
    finally:
        root.removeHandler(handler)


def test_tokens_in_messages_arguments_and_tracebacks_are_masked(log_output: io.StringIO) -> None:
    settings = Settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_webhook_secret=WEBHOOK_SECRET
    )
    redact.install(settings.secret_values())
    log = logging.getLogger("aiogram.test")
    log.error("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    log.error("webhook secret was %s", WEBHOOK_SECRET)
    try:
        raise RuntimeError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        log.exception("startup failed")

    text = log_output.getvalue()
    assert TOKEN not in text and WEBHOOK_SECRET not in text
    assert text.count(redact.MASK) == 3
    assert "startup failed" in text and "RuntimeError" in text  # the rest stays readable
