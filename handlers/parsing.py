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

PERIODS = ("pagi", "siang", "sore", "malam")
# A time of day as typed for the daily message: "07.00", "19:30", "7", "jam 7 pagi",
# "pukul 7.30 malam", "setengah 8" (07.30: half of the way to eight).
_TIME = re.compile(
    r"^(?:(?:pukul|jam|pkl\.?)\s*)?(?P<half>setengah\s+)?(?P<hour>\d{1,2})"
    r"(?:[:.](?P<minute>\d{2}))?(?:\s+(?P<period>" + "|".join(PERIODS) + r"))?$"
)
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


def hour_with_period(hour: int, period: str | None) -> int | None:
    """The 24-hour clock hour of "7 malam" (19), "2 siang" (14), "10 pagi" (10); None when
    the two do not go together ("10 malam" is 22, "3 pagi" is not said)."""
    if period is None:
        return hour
    if period == "pagi":
        return hour if 1 <= hour <= 11 else None
    if period == "siang":
        return hour if 11 <= hour <= 12 else hour + 12 if 1 <= hour <= 3 else None
    if period == "sore":
        return hour + 12 if 2 <= hour <= 6 else hour if 14 <= hour <= 18 else None
    return hour + 12 if 6 <= hour <= 11 else hour if 18 <= hour <= 23 else None


def parse_time(text: str) -> time | None:
    """A bare hour is that hour of the clock: "5" is 05.00, which the caller refuses as
    quiet time, rather than a guess at 17.00."""
    match = _TIME.match(simplify(text))
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if hour > 23 or minute > 59 or (match["half"] and match["minute"]):
        return None
    full_hour = hour_with_period(hour, match["period"])
    if full_hour is None:
        return None
    if match["half"]:
        if full_hour == 0:
            return None
        full_hour, minute = full_hour - 1, 30
    return time(full_hour, minute)


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
