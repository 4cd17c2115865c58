"""`interview-coach content stats`: what the library holds, by mode, role and topic."""

from __future__ import annotations

from collections import Counter
from typing import Any

from content.lint import design_point_coverage
from content.loader import Library
from content.schema import MODES, ROLES


def library_stats(library: Library) -> dict[str, Any]:
    tips_by_topic: Counter[str] = Counter(t for tip in library.tips for t in tip.topics)
    questions_by_topic: Counter[str] = Counter(t for q in library.questions for t in q.topics)
    return {
        "tips": {
            "total": len(library.tips),
            "by_mode": {mode: sum(t.mode == mode for t in library.tips) for mode in MODES},
            "user_by_role": {
                role: sum(t.fits("user", role) for t in library.tips) for role in ROLES
            },
        },
        "questions": {
            "total": len(library.questions),
            "by_mode": {mode: sum(q.mode == mode for q in library.questions) for mode in MODES},
            "user_by_role": {
                role: sum(q.mode == "user" and q.role == role for q in library.questions)
                for role in ROLES
            },
            "with_example_answer": sum(q.example_answer is not None for q in library.questions),
        },
        "ask_back": {
            "total": len(library.ask_back),
            "by_round": {mode: sum(a.round == mode for a in library.ask_back) for mode in MODES},
        },
        "topics": {
            topic: {"tips": tips_by_topic[topic], "questions": questions_by_topic[topic]}
            for topic in library.topics
        },
        "design_point_coverage": design_point_coverage(library),
    }


def format_stats(stats: dict[str, Any]) -> str:
    tips, questions, ask_back = stats["tips"], stats["questions"], stats["ask_back"]
    lines = [
        f"tips: {tips['total']} (hr {tips['by_mode']['hr']}, user {tips['by_mode']['user']})",
        f"questions: {questions['total']} (hr {questions['by_mode']['hr']}, "
        f"user {questions['by_mode']['user']}; "
        + ", ".join(f"{r} {n}" for r, n in questions["user_by_role"].items())
        + f"; with example answer {questions['with_example_answer']})",
        f"ask back: {ask_back['total']} (hr {ask_back['by_round']['hr']}, "
        f"user {ask_back['by_round']['user']})",
        "topics (tips / questions):",
        *(f"  {t}: {c['tips']} / {c['questions']}" for t, c in stats["topics"].items()),
        "design points (tips covering):",
        *(f"  {p}: {n}" for p, n in stats["design_point_coverage"].items()),
    ]
    return "\n".join(lines)
