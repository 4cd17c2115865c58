from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.content_tools import content_cli, edit, first_file


def test_real_library_passes_the_check() -> None:
    result = content_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "content OK" in result.stdout


def test_stats_json_counts_the_library_by_mode_role_and_topic() -> None:
    result = content_cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["tips"]["by_mode"]["hr"] >= 30
    assert stats["tips"]["by_mode"]["user"] >= 30
    assert stats["questions"]["by_mode"]["hr"] >= 25
    assert stats["questions"]["by_mode"]["user"] >= 25
    assert all(
        stats["questions"]["user_by_role"][role] > 0 for role in ("umum", "developer", "qa", "data")
    )
    assert stats["ask_back"]["total"] >= 15
    assert all(count >= 1 for count in stats["design_point_coverage"].values())
    assert stats["topics"]["nerves"]["tips"] >= 1


def _drop_first_tip_action(d: Any) -> None:
    del d["tips"][0]["action"]


def _duplicate_first_tip(d: Any) -> None:
    d["tips"].append(dict(d["tips"][0]))


def _long_first_tip(d: Any) -> None:
    d["tips"][0]["text"] = " ".join(["kata"] * 70)


def _unknown_mode(d: Any) -> None:
    d["tips"][0]["mode"] = "hrd"


def _unknown_topic(d: Any) -> None:
    d["tips"][0]["topics"] = ["motivasi"]


def _unknown_role(d: Any) -> None:
    d["questions"][0]["role"] = "devops"


def _no_keywords(d: Any) -> None:
    d["questions"][0]["keywords"] = []


@pytest.mark.parametrize(
    ("prefix", "change", "expected"),
    [
        ("tips", _drop_first_tip_action, "field 'action': required field is missing"),
        ("tips", _duplicate_first_tip, "is used 2 times"),
        ("tips", _long_first_tip, "keep it at 60 or fewer"),
        ("tips", _unknown_mode, "field 'mode': Input should be 'hr' or 'user' (got 'hrd')"),
        ("tips", _unknown_topic, "unknown topic 'motivasi'"),
        ("questions", _unknown_role, "field 'role': Input should be"),
        ("questions", _no_keywords, "field 'keywords'"),
    ],
)
def test_check_names_file_item_and_problem(
    content_copy: Path, prefix: str, change: Callable[[Any], None], expected: str
) -> None:
    path = first_file(content_copy, prefix)
    item_id = yaml.safe_load(path.read_text(encoding="utf-8"))[prefix][0]["id"]
    edit(path, change)

    result = content_cli("check", "--dir", str(content_copy))

    assert result.returncode == 1
    problem_lines = [line for line in result.stdout.splitlines() if expected in line]
    assert problem_lines, result.stdout
    assert problem_lines[0].startswith(f"{path.name}: {item_id}: ")


def test_check_catches_message_placeholder_typos_and_missing_messages(content_copy: Path) -> None:
    def change(d: Any) -> None:
        d["messages"]["welcome"] = "Halo, {nama}!"
        del d["messages"]["help"]

    edit(content_copy / "messages.yaml", change)
    result = content_cli("check", "--dir", str(content_copy))
    assert result.returncode == 1
    assert "messages.yaml: welcome: unknown placeholder {nama}; allowed: {name}" in result.stdout
    assert "messages.yaml: help: message is missing" in result.stdout


def test_check_catches_yaml_errors_and_duplicate_keys(content_copy: Path) -> None:
    messages = content_copy / "messages.yaml"
    messages.write_text(messages.read_text(encoding="utf-8") + "  help: lagi\n", encoding="utf-8")
    first_file(content_copy, "tips").write_text("tips:\n  - id: [tidak ditutup\n", encoding="utf-8")
    result = content_cli("check", "--dir", str(content_copy))
    assert result.returncode == 1
    assert "duplicate key 'help'" in result.stdout
    assert "YAML syntax error" in result.stdout


def test_check_reports_design_points_left_uncovered(content_copy: Path) -> None:
    for path in content_copy.glob("tips*.yaml"):
        edit(path, lambda d: d.update(tips=[t for t in d["tips"] if "nerves" not in t["topics"]]))
    result = content_cli("check", "--dir", str(content_copy))
    assert result.returncode == 1
    assert "topics.yaml: prep_nerves: only 0 tip(s) cover this point" in result.stdout
