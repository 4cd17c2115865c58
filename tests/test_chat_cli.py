"""The terminal chat as a user runs it: a real process, lines on stdin, a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

SESSION = [
    "/start",
    "2",  # the second option: Developer
    "07.00",
    "WITA",
    "/mode user",
    "/latihan",
    (
        "Waktu itu saya menangani API checkout yang lambat saat promo. Tugas saya menurunkan "
        "latency. Pertama saya cek log dan query yang lambat, lalu saya tambahkan index dan "
        "cache. Hasilnya p95 latency turun dari 1,8 detik ke 400 ms."
    ),
    "/mode hr",
    "/tips",
]


def run_chat(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="\n".join(lines) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_piped_session_gets_indonesian_replies_and_is_stored(tmp_path: Path) -> None:
    result = run_chat(tmp_path, SESSION)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Halo," in out
    assert "  1. Umum\n  2. Developer\n  3. QA\n  4. Data\n  5. Lewati" in out
    assert "pukul 07.00 WITA" in out
    assert "Mode user aktif" in out
    assert "Latihan · mode user · Developer" in out
    assert "Feedback jawabanmu · skor" in out
    assert "Mode HR aktif" in out
    assert "Tips interview · mode HR" in out
    assert "Traceback" not in out + result.stderr

    with sqlite3.connect(tmp_path / "chat.db") as db:
        user = db.execute("SELECT role, mode, timezone, daily_time FROM users").fetchall()
        attempts = db.execute("SELECT count(*) FROM practice_attempts").fetchone()
    assert user == [("developer", "hr", "Asia/Makassar", "07:00:00.000000")]
    assert attempts == (1,)


def test_state_survives_between_chat_runs(tmp_path: Path) -> None:
    run_chat(tmp_path, ["/mode user", "/latihan"])
    result = run_chat(tmp_path, ["Saya akan cek log dulu lalu rollback kalau perlu."])
    assert "Feedback jawabanmu" in result.stdout


def test_empty_line_and_unknown_command_in_the_chat(tmp_path: Path) -> None:
    result = run_chat(tmp_path, ["", "/apaini"])
    assert result.returncode == 0
    assert "Pesanmu kosong" in result.stdout
    assert "Perintah /apaini belum aku kenal" in result.stdout


def test_typing_an_option_label_taps_it(tmp_path: Path) -> None:
    result = run_chat(tmp_path, ["/mode", "Mode user"])
    assert "Mode user aktif" in result.stdout
