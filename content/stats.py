"""`interview-coach content stats`: what the library holds, by mode, role and topic."""

from __future__ import annotations

from collections import Counter
from typing import Any

from content import similarity
from content.lint import design_point_coverage, similarity_kinds
from content.loader import Library
from content.schema import MODES, ROLES


def library_stats(library: Library) -> dict[str, Any]:
    questions = library.questions
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
            "with_example_answer_by_mode": {
                mode: sum(q.mode == mode and q.example_answer is not None for q in questions)
                for mode in MODES
            },
            "user_with_example_answer_by_role": {
                role: sum(
                    q.mode == "user" and q.role == role and q.example_answer is not None
                    for q in questions
                )
                for role in ROLES
            },
        },
        "ask_back": {
            "total": len(library.ask_back),
            "by_round": {mode: sum(a.round == mode for a in library.ask_back) for mode in MODES},
        },
        "plan": {
            "total": len(library.plan),
            "by_round": {mode: sum(mode in s.rounds for s in library.plan) for mode in MODES},
            "on_interview_day_by_round": {
                mode: sum(mode in s.rounds and s.on_interview_day for s in library.plan)
                for mode in MODES
            },
        },
        "topics": {
            topic: {"tips": tips_by_topic[topic], "questions": questions_by_topic[topic]}
            for topic in library.topics
        },
        "design_point_coverage": design_point_coverage(library),
        "closest_pairs": _closest_pairs(library),
    }


def _closest_pairs(library: Library) -> dict[str, dict[str, Any]]:
    """The most similar two items of each kind, to see how far they are from the
    near-duplicate limit of `content check`."""
    pairs = {}
    for kind, items in similarity_kinds(library).items():
        pair = similarity.closest(items)
        if pair is not None:
            pairs[kind] = {
                "ids": [pair.first, pair.second],
                "ratio": round(pair.ratio, 3),
                "phrases": round(pair.phrases, 3),
            }
    return pairs


def format_stats(stats: dict[str, Any]) -> str:
    tips, questions, ask_back = stats["tips"], stats["questions"], stats["ask_back"]
    plan, examples = stats["plan"], questions["user_with_example_answer_by_role"]
    lines = [
        f"tips: {tips['total']} (hr {tips['by_mode']['hr']}, user {tips['by_mode']['user']})",
        f"questions: {questions['total']} (hr {questions['by_mode']['hr']}, "
        f"user {questions['by_mode']['user']}; "
        + ", ".join(f"{r} {n}" for r, n in questions["user_by_role"].items())
        + f"; with example answer {questions['with_example_answer']})",
        f"example answers: hr {questions['with_example_answer_by_mode']['hr']}, user "
        f"{questions['with_example_answer_by_mode']['user']} ("
        + ", ".join(f"{r} {n}" for r, n in examples.items())
        + ")",
        f"ask back: {ask_back['total']} (hr {ask_back['by_round']['hr']}, "
        f"user {ask_back['by_round']['user']})",
        f"plan steps: {plan['total']} (hr {plan['by_round']['hr']}, "
        f"user {plan['by_round']['user']}; on the interview day: hr "
        f"{plan['on_interview_day_by_round']['hr']}, user "
        f"{plan['on_interview_day_by_round']['user']})",
        "topics (tips / questions):",
        *(f"  {t}: {c['tips']} / {c['questions']}" for t, c in stats["topics"].items()),
        "design points (tips covering):",
        *(f"  {p}: {n}" for p, n in stats["design_point_coverage"].items()),
        "most similar pair (near-duplicate from ratio "
        f"{similarity.MAX_RATIO} or phrases {similarity.MAX_PHRASES}):",
        *(
            f"  {kind}: {' / '.join(p['ids'])}: ratio {p['ratio']}, phrases {p['phrases']}"
            for kind, p in stats["closest_pairs"].items()
        ),
    ]
    return "\n".join(lines)
