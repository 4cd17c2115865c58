"""One word per thing: `preferred_terms.txt` lists words the content must not use, each
with the word to write instead, so "HRD" and "HR" never sit side by side."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from content.spelling import Text

TERMS_NAME = "preferred_terms.txt"
ARROW = "->"


@dataclass(frozen=True, slots=True)
class Term:
    avoid: str
    prefer: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Misuse:
    text: Text
    found: str
    term: Term


def read_terms(path: Path) -> tuple[list[Term], list[tuple[int, str]]]:
    """The terms, and (line number, problem) for bad lines. A line is `avoid -> prefer`;
    `#` starts a comment."""
    terms: list[Term] = []
    problems: list[tuple[int, str]] = []
    if not path.is_file():
        return terms, problems
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        avoid, arrow, prefer = (part.strip() for part in entry.partition(ARROW))
        if not arrow or not avoid or not prefer:
            problems.append((number, f"{entry!r} should look like 'HRD -> HR'"))
            continue
        # Whole words, any case; "hari H" also matches across a line break.
        words = r"\s+".join(re.escape(word) for word in avoid.split())
        pattern = re.compile(rf"(?<![\w-]){words}(?![\w-])", re.IGNORECASE)
        terms.append(Term(avoid, prefer, pattern))
    return terms, problems


def misuses(texts: Iterable[Text], terms: list[Term]) -> Iterator[Misuse]:
    for text in texts:
        for term in terms:
            for match in term.pattern.finditer(text.text):
                yield Misuse(text, match.group(0), term)


def single_words(terms: list[Term]) -> frozenset[str]:
    """Words this check already reports, so the spell check doesn't report them twice."""
    return frozenset(t.avoid.lower() for t in terms if len(t.avoid.split()) == 1)
