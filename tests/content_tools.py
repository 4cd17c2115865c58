"""Helpers for tests that break a copy of the content and run `interview-coach content`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def content_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def first_file(directory: Path, prefix: str) -> Path:
    return sorted(directory.glob(f"{prefix}*.yaml"))[0]
