"""SIGTERM right after a polling batch was fetched, then a restart on the same database:
every update Telegram handed over is answered. The real `interview-coach run` process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import free_port

USERS = range(9001, 9051)  # 50 users, two messages each: a batch of 100
MESSAGES = {"/mode user": "Mode user aktif", "/tanya_balik": "Pertanyaan balik untuk"}


async def start_bot(fake: FakeTelegram, database_url: str) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))},
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        # Less time than the batch needs, so that the restart has work left to do.
        "SHUTDOWN_GRACE_SECONDS": "1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    log = output.decode(errors="replace")
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    return log


def answered(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    counts: Counter[tuple[int, str]] = Counter()
    for message in fake.sent():
        for expected in MESSAGES.values():
            if expected in message["text"]:
                counts[(message["chat_id"], expected)] += 1
    return counts


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
async def test_sigterm_after_a_batch_is_fetched_loses_nothing(
    database_url: str, delay: float
) -> None:
    async with FakeTelegram() as fake:
        for chat in USERS:
            for text in MESSAGES:
                fake.push_message(chat, text)
        first = await start_bot(fake, database_url)
        for _ in range(6000):  # the process starts, migrates, sets its menu, polls
            if fake.batches:
                break
            await asyncio.sleep(0.01)
        assert fake.batches, "the bot never fetched the batch"
        await asyncio.sleep(delay)
        await stop_bot(first)
        before_restart = sum(answered(fake).values())

        second = await start_bot(fake, database_url)
        expected = {(chat, reply) for chat in USERS for reply in MESSAGES.values()}
        for _ in range(1200):
            if set(answered(fake)) >= expected:
                break
            await asyncio.sleep(0.05)
        await stop_bot(second)

    counts = answered(fake)
    lost = expected - set(counts)
    duplicates = sum(count - 1 for count in counts.values())
    print(
        f"\nSIGTERM {delay} s after the batch: {before_restart} of {len(expected)} answered "
        f"before the restart, {len(lost)} lost, {duplicates} duplicate(s)"
    )
    assert lost == set()
