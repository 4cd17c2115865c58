"""Spelling check of everything the bot says, with Debian's hunspell and its Indonesian
dictionary (`apt-get install hunspell hunspell-id`).

The whole library goes through one hunspell process (`-L`: it echoes the input lines that
have an unknown word, one word per line here, so each answer maps back exactly). A second,
short process (`-a`) asks for suggestions, and only when something is misspelled.

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

Skipped: tokens with digits, single letters, `{placeholders}`, URLs, e-mail addresses and
`/commands`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

DICTIONARY = "id_ID"
ALLOWLIST_NAME = "spelling_allowlist.txt"
INSTALL_HINT = "install them with: sudo apt-get install hunspell hunspell-id"
ENCODING = "iso-8859-1"  # the id_ID dictionary's SET; hunspell reads and echoes it as is
MAX_SUGGESTED = 200  # misspelled words that get suggestions; bounds the slow -a run
TIMEOUT_SECONDS = 120

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
    """hunspell or its Indonesian dictionary is not installed."""


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


def _hunspell(hunspell: str) -> str:
    path = shutil.which(hunspell)
    if path is None:
        raise SpellcheckerMissing(f"hunspell is not installed; {INSTALL_HINT}")
    return path


def _run(args: list[str], lines: list[str]) -> str:
    data = "".join(line + "\n" for line in lines).encode(ENCODING)
    try:
        result = subprocess.run(
            args, input=data, capture_output=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except OSError as error:
        raise SpellcheckerMissing(f"hunspell could not start ({error}); {INSTALL_HINT}") from error
    stderr = result.stderr.decode(ENCODING, "replace")
    if result.returncode != 0 or "Can't open" in stderr:
        raise SpellcheckerMissing(
            f"hunspell could not open the {args[2]} dictionary "
            f"({stderr.strip() or f'exit code {result.returncode}'}); {INSTALL_HINT}"
        )
    return result.stdout.decode(ENCODING, "replace")


def accepted_words(
    words: Iterable[str], hunspell: str = "hunspell", dictionary: str = DICTIONARY
) -> set[str]:
    """The words hunspell accepts, in one process. Always starts hunspell, so a missing
    dictionary is noticed even when there is nothing to check."""
    asked = sorted({word for word in words if _encodable(word)})
    output = _run([_hunspell(hunspell), "-d", dictionary, "-i", ENCODING, "-L"], asked)
    return set(asked) - set(output.splitlines())


def suggestions(
    words: Iterable[str], hunspell: str = "hunspell", dictionary: str = DICTIONARY
) -> dict[str, tuple[str, ...]]:
    asked = sorted({word for word in words if _encodable(word)})[:MAX_SUGGESTED]
    if not asked:
        return {}
    # "^" makes hunspell's pipe mode read each line as text, never as a command.
    output = _run(
        [_hunspell(hunspell), "-d", dictionary, "-i", ENCODING, "-a"],
        ["^" + word for word in asked],
    )
    found: dict[str, tuple[str, ...]] = {}
    for line in output.splitlines():
        # "& word count offset: one, two" or "# word offset" (nothing to suggest)
        if line.startswith("& ") and ": " in line:
            head, tail = line.split(": ", 1)
            found[head.split()[1]] = tuple(s.strip() for s in tail.split(",") if s.strip())[:3]
    return found


def misspellings(
    texts: Iterable[Text],
    allowed: frozenset[str],
    hunspell: str = "hunspell",
    dictionary: str = DICTIONARY,
) -> list[Misspelling]:
    """Every misspelled word, once per item and field, in the order of `texts`."""
    allowed = frozenset(word.lower() for word in allowed)
    found: list[tuple[Text, str]] = []
    seen: set[tuple[str, str, str]] = set()
    by_text = [(text, tokens(text.text)) for text in texts]
    distinct = {token for _, words in by_text for token in words}
    accepted = accepted_words(_queries(distinct, allowed), hunspell, dictionary)

    def known(word: str) -> bool:
        return word.lower() in allowed or any(v in accepted for v in _variants(word))

    wrong = {token for token in distinct if not token_ok(token, known, allowed)}
    for text, words in by_text:
        for token in words:
            key = (text.item_id, text.field, token)
            if token in wrong and key not in seen:
                seen.add(key)
                found.append((text, token))
    suggested = suggestions(sorted(wrong), hunspell, dictionary) if wrong else {}
    return [
        Misspelling(text.file, text.item_id, text.field, token, suggested.get(token, ()))
        for text, token in found
    ]
