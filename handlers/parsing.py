"""Small parsers for what users type: times, zones, modes. Each returns None when
the input is not valid, and the handler answers with a clear message."""

from __future__ import annotations

import re
import unicodedata
from datetime import time

ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
ZONE_NAMES = {tz: name for name, tz in ZONES.items()}
MODES = {"hr": "hr", "user": "user", "teknis": "user"}
SKIP_WORDS = {"lewati", "skip", "nanti", "nanti saja", "lewat"}

_TIME = re.compile(r"^(?:pukul\s+|jam\s+)?(\d{1,2})[:.](\d{2})$")
_INVISIBLE = {
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    # Bidi controls: a right-to-left override would make a name or an echoed answer
    # render reversed.
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


def clean_text(text: str) -> str:
    """NFC, no zero-width, bidi or control characters (newlines and tabs kept), trimmed."""
    text = unicodedata.normalize("NFC", text)
    kept = (
        ch
        for ch in text
        if ch in "\n\t" or (ch not in _INVISIBLE and unicodedata.category(ch) != "Cc")
    )
    return "".join(kept).strip()


def simplify(text: str) -> str:
    """For matching a typed choice against known words: casefolded, single spaces."""
    return " ".join(text.casefold().split())


def parse_time(text: str) -> time | None:
    match = _TIME.match(simplify(text))
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_zone(text: str) -> str | None:
    return ZONES.get(simplify(text).upper())


def parse_mode(text: str) -> str | None:
    return MODES.get(simplify(text))


def is_skip(text: str) -> bool:
    return simplify(text) in SKIP_WORDS


def format_time(value: time) -> str:
    return f"{value.hour:02d}.{value.minute:02d}"


def zone_name(timezone: str) -> str:
    return ZONE_NAMES.get(timezone, timezone)


def shorten(text: str, limit: int = 30) -> str:
    """For echoing bad input back: long input is cut, so the reply stays readable."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_number(value: int) -> str:
    """Indonesian thousands separator: 5.000."""
    return f"{value:,}".replace(",", ".")
