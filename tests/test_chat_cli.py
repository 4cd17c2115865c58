"""The terminal chat as a user runs it: a real process, lines on stdin, a real database."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from datetime import time

from sqlalchemy import func, select

from bot.db.engine import create_engine
from bot.db.models import PracticeAttempt, User
from content.loader import load_library
from tests.answers import first_question, model_answer

SESSION = [
    "/start",
    "2",  # the second option: Developer
    "3+ tahun",
    "07.00",
    "WITA",
    "/mode user",
    "/latihan",
    # The first question a new developer gets in the user round, answered well.
    model_answer(first_question(load_library(), "user", "developer")),
    "/mode hr",
    "/tips",
]


def run_chat(database_url: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="\n".join(lines) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_piped_session_gets_indonesian_replies_and_is_stored(database_url: str) -> None:
    result = run_chat(database_url, SESSION)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The terminal knows no name; the OS account ("Root") is not the person's.
    assert "Halo, kamu!" in out
    assert getpass.getuser().capitalize() + "!" not in out
    assert "  1. Umum\n  2. Developer\n  3. QA\n  4. Data\n  5. Lewati" in out
    assert "pukul 07.00 WITA" in out
    assert "Mode user aktif" in out
    assert "Latihan · mode user · Developer" in out
    assert "Feedback jawabanmu · skor" in out
    assert "Mode HR aktif" in out
    assert "Tips interview · mode HR" in out
    assert "Traceback" not in out + result.stderr

    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            users = (
                await db.execute(select(User.role, User.mode, User.timezone, User.daily_time))
            ).all()
            attempts = await db.scalar(select(func.count()).select_from(PracticeAttempt))
    finally:
        await engine.dispose()
    assert [tuple(user) for user in users] == [("developer", "hr", "Asia/Makassar", time(7, 0))]
    assert attempts == 1


def test_state_survives_between_chat_runs(database_url: str) -> None:
    run_chat(database_url, ["/mode user", "/latihan"])
    result = run_chat(database_url, ["Saya akan cek log dulu lalu rollback kalau perlu."])
    assert "Feedback jawabanmu" in result.stdout


def test_empty_line_and_unknown_command_in_the_chat(database_url: str) -> None:
    result = run_chat(database_url, ["", "/apaini"])
    assert result.returncode == 0
    assert "Pesanmu kosong" in result.stdout
    assert "Perintah /apaini belum aku kenal" in result.stdout


def test_typing_an_option_label_taps_it(database_url: str) -> None:
    result = run_chat(database_url, ["/mode", "Mode user"])
    assert "Mode user aktif" in result.stdout


def test_an_option_is_picked_by_a_word_only_its_label_has(database_url: str) -> None:
    lines = ["/interview besok 10.00 hr", "ya", "/interview lusa 13.00 user", "ya"]
    result = run_chat(database_url, [*lines, "/batal", "yang hr"])
    after_menu = result.stdout.split("Interview mana yang mau dibatalkan?", 1)[1]
    assert "Interview HR pada" in after_menu and "sudah dibatalkan" in after_menu
    assert "Traceback" not in result.stdout + result.stderr


def test_a_word_in_several_labels_picks_none(database_url: str) -> None:
    lines = ["/interview besok 10.00 hr", "ya", "/interview lusa 13.00 hr", "ya"]
    result = run_chat(database_url, [*lines, "/batal", "yang hr"])
    after_menu = result.stdout.split("Interview mana yang mau dibatalkan?", 1)[1]
    assert "sudah dibatalkan" not in after_menu
