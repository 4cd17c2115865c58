"""What the feedback knows of the whole library: every word root the content uses (with
the working-life words of feedback.yaml), and every question. An answer whose words fall
outside that vocabulary ("kucing saya di koloni Mars"), or that answers another question
instead of this one, is about something else, however well it is shaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from content.loader import Library
from content.schema import Question
from handlers.feedback.reading import content_roots, root

WORD = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class Domain:
    roots: frozenset[str] = frozenset()
    questions: tuple[Question, ...] = ()


# One domain per loaded library; the library is kept so its id is not reused.
_CACHE: dict[int, tuple[Library, Domain]] = {}


def _texts(library: Library) -> Iterator[str]:
    for q in library.questions:
        yield from (q.text, q.looking_for, *q.outline, *q.keywords, *q.follow_ups)
        yield q.example_answer or ""
    for tip in library.tips:
        yield from (tip.text, tip.action)
    for item in library.ask_back:
        yield from (item.text, item.why)
    for step in library.plan:
        yield from (step.title, step.text, step.action)


def domain(library: Library) -> Domain:
    cached = _CACHE.get(id(library))
    if cached is not None and cached[0] is library:
        return cached[1]
    cues = library.feedback_cues()
    function_words = frozenset(cues.reading.function_words)
    roots: set[str] = {root(word) for word in cues.work_words}
    for text in _texts(library):
        roots |= content_roots(WORD.findall(text.lower().replace("|", " ")), function_words)
    result = Domain(frozenset(roots), tuple(library.questions))
    _CACHE[id(library)] = (library, result)
    return result
