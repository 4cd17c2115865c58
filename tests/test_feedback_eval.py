"""The labelled answers (tests/data/feedback_answers*.yaml) typed into the chat one by one,
against a real database: the scores the candidates read must rank answers the way the
recruiter who labelled them did, and each judgement must agree with the labels."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.feedback_eval import evaluate, load_labels
from content.loader import load_library
from tests.conftest import Person, text_of

SCORE = re.compile(r"skor (\d+)/100")


async def test_scores_in_the_chat_rank_answers_like_the_recruiter(person: Person) -> None:
    labels = load_labels()
    shown: dict[str, int] = {}
    mode = "hr"  # a new user's mode
    for label in labels:
        if label["mode"] != mode:
            await person.say(f"/mode {label['mode']}")
            mode = label["mode"]
        await person.practise(label["question"])
        reply = text_of(await person.say(label["answer"]))
        found = SCORE.search(reply)
        # An answer about something else is not scored: it ranks lowest.
        shown[label["id"]] = int(found.group(1)) if found else 0

    by_quality: dict[str, list[int]] = {}
    for label in labels:
        by_quality.setdefault(label["quality"], []).append(shown[label["id"]])
    medians = {quality: statistics.median(scores) for quality, scores in by_quality.items()}
    assert medians["strong"] > medians["medium"] > medians["weak"] >= medians["gamed"]

    # Within one question, a better answer scores higher.
    rank = {"strong": 2, "medium": 1, "weak": 0}
    groups: dict[str, list[dict[str, object]]] = {}
    for label in labels:
        if label.get("group") and label["quality"] in rank:
            groups.setdefault(str(label["group"]), []).append(label)
    pairs = [
        shown[str(a["id"])] > shown[str(b["id"])]
        for members in groups.values()
        for a in members
        for b in members
        if rank[str(a["quality"])] > rank[str(b["quality"])]
    ]
    assert len(pairs) >= 90
    assert sum(pairs) / len(pairs) >= 0.95

    # Gamed answers (cue words, pasted keywords or outline, repeated sentences, the
    # question copied, nonsense, another question's answer) don't beat genuine weak ones.
    weak = medians["weak"]
    beaten = [i for i, s in shown.items() if i.startswith(("gamed", "ho-gamed")) and s > weak]
    assert len(beaten) <= 1, beaten


def test_each_judgement_agrees_with_the_labels() -> None:
    evaluation = evaluate(load_library())
    # What issue 12 measured and set a target for.
    assert evaluation.share("evidence") >= 0.9
    assert evaluation.share("length") >= 0.9
    assert evaluation.share("star_parts") >= 0.9
    assert evaluation.share("off_topic") >= 0.95
    assert evaluation.share("negative") >= 0.95
    assert evaluation.share("parts") >= 0.7


def test_every_process_judges_the_same_answers_the_same_way() -> None:
    """Python salts string hashes per process; the judgements must not depend on it."""
    outputs = {
        subprocess.run(
            [sys.executable, "-m", "benchmarks.feedback_eval"],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 4, 5)
    }
    assert len(outputs) == 1
    assert "star_parts" in outputs.pop()
