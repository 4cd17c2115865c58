"""`interview-coach content check`: every rule a writer can break, reported per item."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from content.loader import Library, Problem, read_files
from content.messages import MESSAGE_FIELDS, placeholders

MAX_TIP_WORDS = 60
MIN_TIPS_PER_DESIGN_POINT = 3
REQUIRED_FILES = ("topics.yaml", "feedback.yaml", "messages.yaml")


def word_count(text: str) -> int:
    return len(text.split())


def _required_files(directory: Path) -> list[Problem]:
    return [
        Problem(name, "-", "file is missing")
        for name in REQUIRED_FILES
        if not (directory / name).is_file()
    ]


def _duplicate_ids(library: Library) -> list[Problem]:
    ids = [item.id for item in library.tips]
    ids += [item.id for item in library.questions]
    ids += [item.id for item in library.ask_back]
    ids += [item.id for item in library.plan]
    counts = Counter(ids)
    return [
        Problem(library.sources.get(item_id, "-"), item_id, f"id is used {count} times")
        for item_id, count in counts.items()
        if count > 1
    ]


def _unknown_topics(library: Library) -> list[Problem]:
    problems = []
    tagged: list[tuple[str, tuple[str, ...]]] = [(t.id, t.topics) for t in library.tips]
    tagged += [(q.id, q.topics) for q in library.questions]
    for item_id, topics in tagged:
        for topic in topics:
            if topic not in library.topics:
                problems.append(
                    Problem(
                        library.sources[item_id],
                        item_id,
                        f"unknown topic {topic!r}; see topics.yaml for the list",
                    )
                )
    for point in library.design_points:
        problems.extend(
            Problem("topics.yaml", point.id, f"unknown topic {topic!r}")
            for topic in point.topics
            if topic not in library.topics
        )
    return problems


def _long_tips(library: Library) -> list[Problem]:
    problems = []
    for tip in library.tips:
        words = word_count(tip.text) + word_count(tip.action)
        if words > MAX_TIP_WORDS:
            problems.append(
                Problem(
                    library.sources[tip.id],
                    tip.id,
                    f"tip is {words} words (text + action); keep it at {MAX_TIP_WORDS} or fewer",
                )
            )
    return problems


def _messages(library: Library) -> list[Problem]:
    if not library.messages:
        return []
    problems = [
        Problem("messages.yaml", key, "message is missing")
        for key in MESSAGE_FIELDS
        if key not in library.messages
    ]
    for key in library.messages:
        if key not in MESSAGE_FIELDS:
            problems.append(Problem("messages.yaml", key, "unknown message key (typo?)"))
            continue
        try:
            used = placeholders(library.messages.template(key))
        except ValueError as error:
            problems.append(Problem("messages.yaml", key, f"broken braces: {error}"))
            continue
        allowed = MESSAGE_FIELDS[key]
        for name in sorted(used - allowed):
            hint = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
            problems.append(
                Problem("messages.yaml", key, f"unknown placeholder {{{name}}}; allowed: {hint}")
            )
    return problems


def design_point_coverage(library: Library) -> dict[str, int]:
    return {
        point.id: sum(1 for tip in library.tips if set(tip.topics) & set(point.topics))
        for point in library.design_points
    }


def _coverage(library: Library) -> list[Problem]:
    return [
        Problem(
            "topics.yaml",
            point_id,
            f"only {count} tip(s) cover this point; at least {MIN_TIPS_PER_DESIGN_POINT} needed",
        )
        for point_id, count in design_point_coverage(library).items()
        if count < MIN_TIPS_PER_DESIGN_POINT
    ]


def lint(directory: Path) -> tuple[Library, list[Problem]]:
    library, problems = read_files(directory)
    problems = [
        *_required_files(directory),
        *problems,
        *_duplicate_ids(library),
        *_unknown_topics(library),
        *_long_tips(library),
        *_messages(library),
        *_coverage(library),
    ]
    return library, problems
