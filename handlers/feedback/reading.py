"""Reading an answer the way people type it: sentences, bullets and clauses, with the
spelling normalised ("sy" -> "saya", "gak" -> "tidak") word by word, so every later rule
matches one written form and can still quote the candidate's own words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from content.schema import ReadingRules, Requests

# A sentence ends at . ! ? ; or a line break, but not inside "2.5" or "Rp5.000".
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
BULLET = re.compile(r"^\s*(?:[-*•·▪►]|\d{1,2}[.)])\s+")
EDGE_PUNCTUATION = "\"'()[]{}“”‘’*_.,!?;:…"
# A clause of its own starts at these words, so "saya tambah index sehingga query turun"
# holds an action and a result.
CLAUSE_STARTERS = frozenset(
    {"sehingga", "hasilnya", "akhirnya", "lalu", "kemudian", "terus", "setelah", "selanjutnya"}
)
TIME_NOUNS = frozenset({"tahun", "bulan", "minggu", "hari", "malam", "pekan", "sprint"})
MIN_COMMA_CLAUSE_WORDS = 3
# Anything shorter is not quoted whole.
QUOTE_WORDS = 12


@dataclass(frozen=True)
class Clause:
    """One idea: a sentence, a bullet, or part of a long sentence."""

    raw: tuple[str, ...]  # the candidate's words as typed
    words: tuple[str, ...]  # the same words, read: lowercase, normalised spelling
    sentence: int  # index of the sentence it belongs to
    bullet: bool
    ends_sentence: bool

    @property
    def text(self) -> str:
        """The read words with a space on each side, for phrase matching."""
        return " " + " ".join(self.words) + " "

    def quote(self) -> str:
        raw = [word.strip(",;:") for word in self.raw]
        if len(raw) <= QUOTE_WORDS:
            return " ".join(raw).strip(" .!?")
        return " ".join(raw[:QUOTE_WORDS]).strip(" .!?") + " …"


@dataclass(frozen=True)
class Reading:
    clauses: tuple[Clause, ...]
    sentences: tuple[tuple[Clause, ...], ...]
    word_count: int

    @property
    def text(self) -> str:
        return " ".join(clause.text for clause in self.clauses)


def read_word(word: str, rules: ReadingRules) -> str:
    bare = word.lower().strip(EDGE_PUNCTUATION)
    return rules.spellings.get(bare, bare)


def _sentences(answer: str) -> list[tuple[str, bool]]:
    found = []
    for line in answer.splitlines():
        bullet = BULLET.match(line)
        body = line[bullet.end() :] if bullet else line
        for sentence in SENTENCE_END.split(body):
            if sentence.strip():
                found.append((sentence, bullet is not None))
    return found


def _split_clauses(raw: list[str], words: list[str]) -> list[tuple[int, int]]:
    """Token ranges of the clauses in one sentence."""
    starts = [0]
    for i in range(1, len(raw)):
        after_comma = raw[i - 1].endswith(",") and len(raw) - i >= MIN_COMMA_CLAUSE_WORDS
        # "tahun lalu", "minggu lalu": a time, not the next step.
        starter = words[i] in CLAUSE_STARTERS and words[i - 1] not in TIME_NOUNS
        if (after_comma or starter) and i - starts[-1] >= 2:
            starts.append(i)
    ends = [*starts[1:], len(raw)]
    return list(zip(starts, ends, strict=True))


def read(answer: str, rules: ReadingRules) -> Reading:
    clauses: list[Clause] = []
    sentences: list[tuple[Clause, ...]] = []
    total = 0
    for sentence, bullet in _sentences(answer):
        raw = sentence.split()
        words = [read_word(word, rules) for word in raw]
        kept = [(r, w) for r, w in zip(raw, words, strict=True) if w]
        if not kept:
            continue
        raw, words = [r for r, _ in kept], [w for _, w in kept]
        total += len(raw)
        these = tuple(
            Clause(tuple(raw[a:b]), tuple(words[a:b]), len(sentences), bullet, b == len(raw))
            for a, b in _split_clauses(raw, words)
        )
        clauses.extend(these)
        sentences.append(these)
    return Reading(tuple(clauses), tuple(sentences), total)


@cache
def phrase_pattern(phrases: tuple[str, ...], whole_word: bool = False) -> re.Pattern[str]:
    """One pattern for a list of phrases, matched at word starts on read text."""
    if not phrases:
        return re.compile(r"(?!x)x")
    end = r"(?!\w)" if whole_word else ""
    ordered = sorted(set(phrases), key=len, reverse=True)
    body = "|".join(re.escape(phrase) for phrase in ordered)
    return re.compile(rf"(?<![\w+])(?:{body}){end}")


def spans(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    return [m.span() for m in phrase_pattern(phrases).finditer(text)]


def found(text: str, phrases: tuple[str, ...]) -> list[str]:
    return [m.group(0) for m in phrase_pattern(phrases).finditer(text)]


def has(text: str, phrases: tuple[str, ...]) -> bool:
    return phrase_pattern(phrases).search(text) is not None


def words_outside(text: str, covered: Iterable[tuple[int, int]]) -> list[str]:
    """The words of `text` that no span covers, even in part."""
    marks = [False] * len(text)
    for start, end in covered:
        for i in range(start, min(end, len(text))):
            marks[i] = True
    result = []
    for match in re.finditer(r"\S+", text):
        if not any(marks[match.start() : match.end()]):
            result.append(match.group(0))
    return result


# Affixes stripped to compare words by their root ("memperbaiki" ~ "perbaikan").
PREFIXES = (
    "memper",
    "mempe",
    "meng",
    "meny",
    "mem",
    "men",
    "me",
    "peng",
    "peny",
    "pem",
    "pen",
    "per",
    "pe",
    "ber",
    "be",
    "ter",
    "di",
    "ke",
    "se",
)
SUFFIXES = ("nya", "lah", "kah", "kan", "an", "i")
MIN_ROOT = 3


# A nasal prefix swallows the root's first consonant: "memahami" is me- + "pahami",
# "menulis" me- + "tulis", "mengirim" me- + "kirim", "menyusun" me- + "susun".
NASAL_RESTORED = {
    "mem": "p",
    "pem": "p",
    "men": "t",
    "pen": "t",
    "meng": "k",
    "peng": "k",
    "meny": "s",
    "peny": "s",
}
VOWELS = frozenset("aeiou")


@cache
def root_forms(word: str) -> tuple[str, ...]:
    """Rough Indonesian roots, good enough to tell that two words are related: the stem
    without affixes and, after a nasal prefix, the stem with its first consonant back."""
    stem = word.strip("-")
    for suffix in SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= MIN_ROOT + 1:
            stem = stem[: -len(suffix)]
            break
    for prefix in PREFIXES:
        if stem.startswith(prefix) and len(stem) - len(prefix) >= MIN_ROOT:
            rest = stem[len(prefix) :]
            if prefix in NASAL_RESTORED and rest[0] in VOWELS:
                return (rest, NASAL_RESTORED[prefix] + rest)
            return (rest,)
    return (stem,)


def root(word: str) -> str:
    return root_forms(word)[0]


def is_content(word: str, function_words: frozenset[str]) -> bool:
    return len(word) >= MIN_ROOT and word.isalpha() and word not in function_words


def content_roots(words: Iterable[str], function_words: frozenset[str]) -> set[str]:
    return {form for word in words if is_content(word, function_words) for form in root_forms(word)}


MAX_REQUEST_WORDS = 8


def request_kind(text: str, rules: ReadingRules, requests: Requests) -> str | None:
    """ "example", "hint" or "retry" when a short message asks the coach for it rather
    than answering."""
    words = [read_word(word, rules) for word in text.split()]
    if not words or len(words) > MAX_REQUEST_WORDS:
        return None
    read_text = " " + " ".join(word for word in words if word) + " "
    # The model answer goes first: "bisa kasih contoh jawabannya? saya tidak tahu"
    # asks for it.
    for kind in ("example", "hint", "retry"):
        if has(read_text, getattr(requests, kind)):
            return kind
    return None
