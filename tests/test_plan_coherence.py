"""The countdown plan over a grid of interviews (today, tomorrow, in 2 and 7 days; at
07.00, 10.00 and 19.00; registered at 06.30), walked hour by hour through the real
scheduler and the fake Bot API. Asserted on the text the user receives: nothing says
"besok" or "malam ini" when that is false, "N jam lagi" is true when it arrives, and
after "berhenti belajar" nothing that day asks for study."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.dates import MONTH_NAMES
from tests import test_scheduler
from tests.test_scheduler import Harness, register

harness = test_scheduler.harness  # the scheduler tests' fixture: engine, fake Bot API

WIB = ZoneInfo("Asia/Jakarta")
REGISTERED = datetime(2026, 12, 1, 6, 30, tzinfo=WIB)  # before the 07.00 daily message
CHAT = 4242
_TIME_LEFT = re.compile(r"Tinggal (?:(\d+) jam)?\s*(?:(\d+) menit)? lagi")
EVE_WORDS = ("besok", "malam ini")
SEPARATOR = "\n\n— — —\n\n"
PLAN_HEADER = "Persiapan interview"
DAILY_QUESTION = "Soal latihan hari ini"


async def _walk(harness: Harness, until: datetime) -> list[tuple[datetime, str]]:
    """Every message the chat gets, with the local time it arrived, ticking each hour
    of the waking day."""
    received: list[tuple[datetime, str]] = []
    seen = len(harness.texts(CHAT))
    moment = REGISTERED
    while moment <= until:
        if 6 <= moment.hour <= 21:
            await harness.tick_at(moment.astimezone(UTC))
            texts = harness.texts(CHAT)
            received += [(moment, text) for text in texts[seen:]]
            seen = len(texts)
        moment += timedelta(hours=1) if moment.minute == 0 else timedelta(minutes=30)
    return received


# Interviews in 0, 1, 2 and 7 days at 07.00, 10.00 and 19.00, less today's 07.00, which
# is half an hour after the registration and so has no plan to speak of.
GRID = [(days, hour) for days in (0, 1, 2, 7) for hour in (7, 10, 19) if (days, hour) != (0, 7)]


@pytest.mark.parametrize(("days", "hour"), GRID)
async def test_the_plan_says_only_what_is_true_when_it_arrives(
    harness: Harness, days: int, hour: int
) -> None:
    starts = (REGISTERED + timedelta(days=days)).replace(hour=hour, minute=0)
    harness.clock.now = REGISTERED.astimezone(UTC)
    when = f"{starts.day} {MONTH_NAMES[starts.month - 1]} {starts.year} {hour:02d}.00 user"
    await register(harness, CHAT, when)
    received = await _walk(harness, starts + timedelta(hours=1))
    assert received, "the plan sent nothing"
    eve = starts.date() - timedelta(days=1)
    study = [
        step.title
        for step in harness.app.coach.library.plan
        if step.practice or (step.days_before or 0) >= 2
    ]
    rested_at: datetime | None = None
    for arrived, text in received:
        assert "{" not in text, text  # no placeholder reaches the user
        steps = [part for part in text.split(SEPARATOR) if part.startswith(PLAN_HEADER)]
        for step in steps:
            body = step.split("\n\n", 1)[1].casefold()  # without the header's date
            if any(word in body for word in EVE_WORDS):
                assert arrived.date() == eve, (arrived, step[:120])
            for match in _TIME_LEFT.finditer(step):
                claimed = timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))
                assert abs((starts - arrived) - claimed) <= timedelta(minutes=5), (arrived, step)
        if any("Berhenti belajar" in step for step in steps):
            assert arrived.date() == eve, (arrived, text[:120])
            rested_at = arrived
        if rested_at is not None and arrived.date() == rested_at.date():
            # The rest step's message and anything after it that day ask for no study.
            assert DAILY_QUESTION not in text, (arrived, text[:200])
            assert not any(title in step for step in steps for title in study), text[:200]
    if days >= 2:
        assert rested_at is not None, "the evening before got no rest step"
