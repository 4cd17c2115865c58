"""How well the feedback agrees with a recruiter, on the labelled answers in
tests/data/feedback_answers.yaml (phone style, mixed English, bullets, every question
type and role, and gamed answers).

    .venv/bin/python -m benchmarks.feedback_eval [--show-misses]

Prints the accuracy of each judgement (the parts of the question type, STAR parts alone,
evidence, length, negative talk, off topic, generic), then the ranking: the median score
per quality, how often strong > medium > weak within one question, and where the gamed
answers land against the genuine weak ones.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from content.loader import Library, load_library
from handlers.feedback import FeedbackReport, analyze, domain

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# The first set was tuned against; the held-out set was written later, by another judge,
# to see whether the rules hold for answers they were not fitted to.
LABEL_FILES = ("feedback_answers.yaml", "feedback_answers_heldout.yaml")
QUALITIES = ("strong", "medium", "weak", "gamed")
RANK = {"strong": 2, "medium": 1, "weak": 0}


@dataclass(frozen=True)
class Judged:
    label: dict[str, Any]
    report: FeedbackReport


@dataclass
class Evaluation:
    judged: list[Judged]
    accuracy: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (right, of)
    misses: dict[str, list[str]] = field(default_factory=dict)

    def share(self, name: str) -> float:
        right, total = self.accuracy[name]
        return right / total if total else 1.0

    def scores(self, quality: str) -> list[int]:
        return [j.report.score for j in self.judged if j.label["quality"] == quality]

    def gamed_above_weak(self) -> list[str]:
        """Gamed answers that outscore a typical genuine weak answer."""
        weak = self.scores("weak")
        bar = statistics.median(weak) if weak else 0
        return [
            j.label["id"]
            for j in self.judged
            if j.label["quality"] == "gamed" and j.report.score > bar
        ]

    def ranked_pairs(self) -> tuple[int, int]:
        """(pairs in the right order, pairs) over answers to the same question."""
        groups: dict[str, list[Judged]] = defaultdict(list)
        for j in self.judged:
            if j.label.get("group") and j.label["quality"] in RANK:
                groups[j.label["group"]].append(j)
        right = total = 0
        for members in groups.values():
            for a in members:
                for b in members:
                    if RANK[a.label["quality"]] > RANK[b.label["quality"]]:
                        total += 1
                        right += a.report.score > b.report.score
        return right, total


def load_labels(names: tuple[str, ...] = LABEL_FILES) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for name in names:
        answers += yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["answers"]
    return answers


Label = dict[str, Any]


@dataclass(frozen=True)
class Judgement:
    name: str
    applies: Callable[[Label], bool]
    expected: Callable[[Label], object]
    got: Callable[[FeedbackReport], object]


def _genuine(label: Label) -> bool:
    return bool(label["quality"] != "gamed")


JUDGEMENTS = (
    Judgement("parts", _genuine, lambda lb: set(lb["parts"]), lambda r: set(r.parts_present)),
    Judgement(
        "star_parts",
        lambda lb: _genuine(lb) and lb["type"] == "behavioural",
        lambda lb: set(lb["parts"]),
        lambda r: set(r.parts_present),
    ),
    Judgement("evidence", _genuine, lambda lb: bool(lb["evidence"]), lambda r: bool(r.evidence)),
    Judgement("length", _genuine, lambda lb: lb["length"], lambda r: r.length),
    Judgement(
        "negative", _genuine, lambda lb: bool(lb.get("negative")), lambda r: bool(r.negative)
    ),
    Judgement(
        "off_topic", lambda lb: True, lambda lb: bool(lb.get("off_topic")), lambda r: r.off_topic
    ),
    Judgement(
        "generic",
        lambda lb: _genuine(lb) and lb["type"] == "motivation",
        lambda lb: bool(lb.get("generic")),
        lambda r: r.generic,
    ),
)


def evaluate(library: Library, labels: list[Label] | None = None) -> Evaluation:
    cues = library.feedback_cues()
    known = domain(library)
    judged = []
    for label in labels if labels is not None else load_labels():
        question = library.question(label["question"])
        if question is None:
            raise ValueError(f"{label['id']}: unknown question {label['question']}")
        judged.append(Judged(label, analyze(label["answer"], question, label["mode"], cues, known)))
    evaluation = Evaluation(judged)
    for judgement in JUDGEMENTS:
        right = total = 0
        misses = []
        for j in judged:
            if not judgement.applies(j.label):
                continue
            expected, got = judgement.expected(j.label), judgement.got(j.report)
            total += 1
            if expected == got:
                right += 1
            else:
                misses.append(f"{j.label['id']}: expected {expected}, got {got}")
        evaluation.accuracy[judgement.name] = (right, total)
        evaluation.misses[judgement.name] = misses
    return evaluation


def _median(values: list[int]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def report(evaluation: Evaluation, show_misses: bool) -> str:
    lines = ["judgement      right   of  accuracy"]
    for name, (right, total) in evaluation.accuracy.items():
        lines.append(f"{name:<13} {right:>6} {total:>4}  {evaluation.share(name):>7.0%}")
        if show_misses:
            lines += [f"    {miss}" for miss in evaluation.misses[name]]
    lines += ["", "quality  answers  median  min  max"]
    for quality in QUALITIES:
        scores = evaluation.scores(quality)
        if scores:
            lines.append(
                f"{quality:<8} {len(scores):>7} {_median(scores):>7} "
                f"{min(scores):>4} {max(scores):>4}"
            )
    right, total = evaluation.ranked_pairs()
    lines.append("")
    lines.append(f"same question, better answer scores higher: {right}/{total} pairs")
    above = evaluation.gamed_above_weak()
    weak_median = _median(evaluation.scores("weak"))
    lines.append(
        f"gamed answers above the median genuine weak one ({weak_median}): "
        f"{len(above)} of {len(evaluation.scores('gamed'))}"
        + (f" ({', '.join(above)})" if above else "")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="list each disagreement")
    parser.add_argument(
        "--file", action="append", choices=LABEL_FILES, help="one labelled set (default: all)"
    )
    args = parser.parse_args()
    labels = load_labels(tuple(args.file or LABEL_FILES))
    print(report(evaluate(load_library(), labels), args.show_misses))


if __name__ == "__main__":
    main()
