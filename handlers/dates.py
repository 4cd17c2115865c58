"""Indonesian dates and times for `/interview`: our own rules first, dateparser (with
languages=["id"]) for other wordings. The answer is a full date and time, a question back
to the user, or an error, never a guess and never a moment in the past."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

from handlers.parsing import PERIODS, hour_with_period

MAX_DAYS_AHEAD = 365
MAX_TEXT_CHARS = 80

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agus": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "nopember": 11,
    "desember": 12, "des": 12,
}  # fmt: skip
WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "sabtu": 5,
    "minggu": 6, "ahad": 6,
}  # fmt: skip
MONTH_NAMES = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)  # fmt: skip
DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@dataclass(frozen=True)
class Moment:
    """A complete local date and time."""

    value: datetime


@dataclass(frozen=True)
class NeedTime:
    """The date is clear; ask for the time."""

    day: date


@dataclass(frozen=True)
class Ask:
    """Ambiguous or incomplete: ask the user. `reason` names a message."""

    reason: str


@dataclass(frozen=True)
class Invalid:
    """A clear error. `reason` names a message; `detail` is echoed back."""

    reason: str
    detail: str = ""


Parsed = Moment | NeedTime | Ask | Invalid

# Times of day, as said after (or before) an hour: "jam 3 sore", "malam jam 7".
PERIODS_PATTERN = "|".join(PERIODS)
_PERIOD_AFTER = rf"(?:\s*(?P<after>{PERIODS_PATTERN}))?"
# "jam 10", "pukul 9.30", "jam setengah 10" (09.30), "jam 10an" (about ten: 10.00),
# "setengah 10" alone.
_SPOKEN_TIME = re.compile(
    rf"(?:\b(?P<before>{PERIODS_PATTERN})\s+)?"  # "besok malam jam 7"
    r"(?:\b(?:jam|pukul|pkl\.?)\s*(?P<half>setengah\s+)?|\b(?P<half_only>setengah)\s+)"
    r"(?P<hour>\d{1,2})(?:[.:](?P<minute>\d{2}))?(?:-?an\b)?" + _PERIOD_AFTER
)
_CLOCK_TIME = re.compile(
    r"(?<![\d/.-])(?P<hour>\d{1,2})[.:](?P<minute>\d{2})(?![\d/.-])" + _PERIOD_AFTER
)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?$")
_NAMED = re.compile(r"^(\d{1,2})\s+([a-z']+)\.?(?:\s+(\d{4}))?$")
_IN_DAYS = re.compile(r"^(?:(\d{1,3})|se)\s*(hari|minggu|pekan)\s+lagi$|^dalam\s+(\d{1,3})\s+hari$")
_FILLER = re.compile(
    r"\b(?:tanggal|tgl\.?|pada|nanti|interview(?:nya)?)\b"
    r"|\bhari\s+(?=(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)\b)"
)
NEXT_WEEK = ("minggu depan", "pekan depan")
_NEXT_WEEK = [phrase.split() for phrase in NEXT_WEEK]
_RELATIVE = {"hari ini": 0, "besok": 1, "lusa": 2, "besok lusa": 2}


def format_moment(value: datetime, zone_label: str) -> str:
    """'Senin, 7 Desember 2026 pukul 10.00 WIB'."""
    return (
        f"{DAY_NAMES[value.weekday()]}, {value.day} {MONTH_NAMES[value.month - 1]} "
        f"{value.year} pukul {value.hour:02d}.{value.minute:02d} {zone_label}"
    )


def format_day(value: date) -> str:
    return f"{DAY_NAMES[value.weekday()]}, {value.day} {MONTH_NAMES[value.month - 1]} {value.year}"


def _take_time(text: str) -> tuple[str, time | Ask | Invalid | None]:
    """Removes a time from the text and returns it."""
    for pattern, spoken in ((_SPOKEN_TIME, True), (_CLOCK_TIME, False)):
        match = pattern.search(text)
        if match is None:
            continue
        rest = (text[: match.start()] + " " + text[match.end() :]).strip()
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
        period = match["after"] or match.groupdict().get("before")
        if hour > 23 or minute > 59:
            return rest, Invalid("bad_time", match.group(0).strip())
        if spoken and period is None and match["minute"] is None and 1 <= hour <= 6:
            return rest, Ask("ask_am_pm")  # "jam 3": 03.00 or 15.00?
        full_hour = hour_with_period(hour, period)
        if full_hour is None:
            return rest, Invalid("bad_time", match.group(0).strip())
        if spoken and (match["half"] or match["half_only"]):
            if match["minute"] is not None or full_hour == 0:
                return rest, Invalid("bad_time", match.group(0).strip())
            return rest, time(full_hour - 1, 30)  # "setengah 10": half way to ten
        return rest, time(full_hour, minute)
    return text, None


def _real_date(year: int, month: int, day: int) -> date | Invalid:
    if not 1 <= month <= 12:
        return Invalid("no_such_date", f"{day}/{month}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return Invalid("no_such_date", f"{day} {MONTH_NAMES[month - 1]}")
    return date(year, month, day)


def _without_year(today: date, month: int, day: int) -> date | Invalid:
    """The next such date: this year, or next year when it has passed (29 Feb aside)."""
    for year in (today.year, today.year + 1):
        candidate = _real_date(year, month, day)
        if isinstance(candidate, date) and candidate >= today:
            return candidate
    leap = _real_date(2028, month, day)
    return leap if isinstance(leap, Invalid) else _real_date(today.year, month, day)


def _weekday(today: date, name: str, next_week: bool) -> date:
    target = WEEKDAYS[name]
    if next_week:
        monday_next = today + timedelta(days=7 - today.weekday())
        return monday_next + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday()) % 7)


def _take_date(text: str, today: date) -> date | Ask | Invalid | None:
    words = _FILLER.sub(" ", text).replace(",", " ").split()
    # A time of day without an hour ("besok pagi", "nanti sore") says the day; the hour
    # is asked for.
    text = " ".join(word for word in words if word not in PERIODS)
    if not text:
        return today if words else None
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    if text in (*NEXT_WEEK, "bulan depan"):
        return Ask("ask_which_day")
    if match := _IN_DAYS.match(text):
        count = int(match.group(1) or match.group(3) or 1)
        unit_days = 1 if (match.group(2) or "hari") == "hari" else 7
        return today + timedelta(days=count * unit_days)
    words = text.split()
    if len(words) > 1 and words[0] in WEEKDAYS and words[1][0].isdigit():
        # "Jumat, 5 Desember": the date decides, but a weekday that contradicts it means
        # one of the two is wrong, and the user is asked which.
        dated = _take_date(" ".join(words[1:]), today)
        if isinstance(dated, date) and dated.weekday() != WEEKDAYS[words[0]]:
            return Invalid("weekday_mismatch", format_day(dated))
        return dated
    if words[0] in WEEKDAYS and len(words) <= 2 and words[1:] in ([], ["depan"], ["ini"]):
        return _weekday(today, words[0], next_week=words[1:] == ["depan"])
    # "kamis minggu depan", "minggu depan kamis", "rabu pekan depan": that day next week.
    if len(words) == 3 and words[0] in WEEKDAYS and words[1:] in _NEXT_WEEK:
        return _weekday(today, words[0], next_week=True)
    if len(words) == 3 and words[:2] in _NEXT_WEEK and words[2] in WEEKDAYS:
        return _weekday(today, words[2], next_week=True)
    if match := _ISO.match(text):
        return _real_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _NUMERIC.match(text):
        day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
        if year is None:
            return _without_year(today, month, day)
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        return _real_date(full_year, month, day)
    if (match := _NAMED.match(text)) and match.group(2) in MONTHS:
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        if match.group(3) is None:
            return _without_year(today, month, day)
        return _real_date(int(match.group(3)), month, day)
    return _dateparser(text, today)


def _dateparser(text: str, today: date) -> date | Invalid | None:
    try:
        found = dateparser.parse(
            text,
            languages=["id"],
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
                "REQUIRE_PARTS": ["day"],
            },
        )
    except (ValueError, OverflowError):
        return Invalid("unknown_date", text)
    return None if found is None else found.date()


def names_a_day(text: str, now: datetime) -> bool:
    """Whether the text, without its time, says which day: "besok jam 10" does, "saya
    jam 3 molor" doesn't. Past and impossible dates count; they still name a day."""
    cleaned = " ".join(text.casefold().split())
    if len(cleaned) > MAX_TEXT_CHARS:
        return False
    rest, _ = _take_time(cleaned)
    day = _take_date(rest, now.date())
    return day is not None and not (isinstance(day, Invalid) and day.reason == "unknown_date")


def parse_when(text: str, now: datetime) -> Parsed:
    """`now` is aware and in the user's zone; the result is in the same zone."""
    cleaned = " ".join(text.casefold().split())
    if len(cleaned) > MAX_TEXT_CHARS:
        return Invalid("unknown_date", cleaned[:30])
    rest, at = _take_time(cleaned)
    if isinstance(at, Invalid | Ask):
        return at
    today = now.date()
    day = _take_date(rest, today)
    if day is None:
        if rest:
            return Invalid("unknown_date", rest)
        return Ask("ask_date")
    if isinstance(day, Ask | Invalid):
        return day
    if day < today:
        return Invalid("past", format_day(day))
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return Invalid("too_far", format_day(day))
    if at is None:
        return NeedTime(day)
    moment = datetime.combine(day, at, tzinfo=now.tzinfo)
    if moment <= now:
        return Invalid("past", format_day(day))
    return Moment(moment)
