"""Near-duplicate texts: a tip pasted twice with a few words changed, or the same question
written by two writers.

Texts are compared as lowercase words without punctuation, with two measures:

- `ratio`: difflib's similarity of the two word sequences, 2 × matching words / all words.
  Catches a copy with some words changed, added or dropped.
- `phrases`: the share of three-word phrases the two texts have in common (Jaccard).
  Catches a copy with its sentences put in another order.

A pair is a near-duplicate when `ratio` ≥ `MAX_RATIO` or `phrases` ≥ `MAX_PHRASES`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

# The real library's closest pair is two questions at 0.74 (hr-q-052 "tidak setuju dengan
# keputusan atasan" and user-umum-q-007 "... keputusan teknis senior atau tech lead");
# changing one word in five, or two words in a twelve-word question, still scores above 0.8.
MAX_RATIO = 0.8
MAX_PHRASES = 0.5
PHRASE_WORDS = 3

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _phrases(seq: list[str]) -> set[tuple[str, ...]]:
    if len(seq) < PHRASE_WORDS:
        return {tuple(seq)}
    return {tuple(seq[i : i + PHRASE_WORDS]) for i in range(len(seq) - PHRASE_WORDS + 1)}


@dataclass(frozen=True, slots=True)
class Pair:
    first: str
    second: str
    ratio: float
    phrases: float

    @property
    def is_near_duplicate(self) -> bool:
        return self.ratio >= MAX_RATIO or self.phrases >= MAX_PHRASES

    def describe(self) -> str:
        return (
            f"{self.ratio:.0%} the same words in the same order, "
            f"{self.phrases:.0%} the same three-word phrases"
        )


def compare(items: Sequence[tuple[str, str]], *, all_pairs: bool = False) -> list[Pair]:
    """Pairs of (id, text) items, each pair once, first id first in `items` order. Only the
    near-duplicates, unless `all_pairs` (slower: no shortcut)."""
    prepared = [(item_id, words(text)) for item_id, text in items]
    phrases = [_phrases(seq) for _, seq in prepared]
    matcher = SequenceMatcher(autojunk=False)
    pairs = []
    for j, (second, b) in enumerate(prepared):
        matcher.set_seq2(b)  # difflib caches its analysis of the second sequence
        for i in range(j):
            first, a = prepared[i]
            union = phrases[i] | phrases[j]
            shared = len(phrases[i] & phrases[j]) / len(union) if union else 1.0
            matcher.set_seq1(a)
            if (
                all_pairs
                or shared >= MAX_PHRASES
                or (matcher.real_quick_ratio() >= MAX_RATIO and matcher.quick_ratio() >= MAX_RATIO)
            ):
                pair = Pair(first, second, matcher.ratio(), shared)
                if all_pairs or pair.is_near_duplicate:
                    pairs.append(pair)
    return pairs


def closest(items: Sequence[tuple[str, str]]) -> Pair | None:
    """The most similar pair by `ratio`, for `content stats`."""
    pairs = compare(items, all_pairs=True)
    return max(pairs, key=lambda pair: (pair.ratio, pair.phrases), default=None)
