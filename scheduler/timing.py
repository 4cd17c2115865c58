"""Local time rules: daily slots in the user's zone and quiet hours (21:00-06:00)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_START = time(21, 0)
QUIET_END = time(6, 0)
DAILY_GRACE = timedelta(hours=2)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(zone(timezone))


def is_quiet_time(value: time) -> bool:
    return value >= QUIET_START or value < QUIET_END


def in_quiet_hours(moment: datetime, timezone: str) -> bool:
    return is_quiet_time(local(moment, timezone).time())


def at_local(day: date, value: time, timezone: str) -> datetime:
    """An aware datetime for a wall-clock time in the zone. WIB, WITA and WIT have no DST."""
    return datetime.combine(day, value, tzinfo=zone(timezone))


def next_quiet_end(moment: datetime, timezone: str) -> datetime:
    """The first moment at or after `moment` that is outside quiet hours."""
    here = local(moment, timezone)
    if not is_quiet_time(here.time()):
        return moment
    day = here.date() if here.time() < QUIET_END else here.date() + timedelta(days=1)
    return at_local(day, QUIET_END, timezone)


def last_allowed_before(moment: datetime, timezone: str) -> datetime:
    """The latest moment at or before `moment` outside quiet hours (20:59 the evening
    before, when `moment` falls in the night)."""
    here = local(moment, timezone)
    if not is_quiet_time(here.time()):
        return moment
    day = here.date() if here.time() >= QUIET_START else here.date() - timedelta(days=1)
    return at_local(day, QUIET_START, timezone) - timedelta(minutes=1)
