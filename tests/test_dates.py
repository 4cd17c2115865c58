"""The Indonesian date parser behind /interview."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.dates import Ask, Invalid, Moment, NeedTime, format_moment, parse_when

JAKARTA = ZoneInfo("Asia/Jakarta")
# Wednesday 25 November 2026, 20.00 WIB
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=JAKARTA)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05", NeedTime(date(2026, 12, 5))),
        ("5/12/2026", NeedTime(date(2026, 12, 5))),
        ("5 Desember", NeedTime(date(2026, 12, 5))),
        ("5 Des 2026 10.00", Moment(datetime(2026, 12, 5, 10, 0, tzinfo=JAKARTA))),
        ("besok", NeedTime(date(2026, 11, 26))),
        ("lusa", NeedTime(date(2026, 11, 27))),
        ("senin depan", NeedTime(date(2026, 11, 30))),
        ("3 hari lagi", NeedTime(date(2026, 11, 28))),
        ("jumat jam 10", Moment(datetime(2026, 11, 27, 10, 0, tzinfo=JAKARTA))),
        ("besok pukul 14.00", Moment(datetime(2026, 11, 26, 14, 0, tzinfo=JAKARTA))),
        ("tgl 12 januari jam 9 pagi", Moment(datetime(2027, 1, 12, 9, 0, tzinfo=JAKARTA))),
        ("kamis depan pukul 13:30", Moment(datetime(2026, 12, 3, 13, 30, tzinfo=JAKARTA))),
        ("lusa jam 2 siang", Moment(datetime(2026, 11, 27, 14, 0, tzinfo=JAKARTA))),
        ("besok malam jam 7", Moment(datetime(2026, 11, 26, 19, 0, tzinfo=JAKARTA))),
        ("jumat sore jam 4", Moment(datetime(2026, 11, 27, 16, 0, tzinfo=JAKARTA))),
        ("besok pagi jam 14", Invalid("bad_time", "pagi jam 14")),
        ("pukul 14.00", Ask("ask_date")),
        ("minggu depan", Ask("ask_which_day")),
        ("besok jam 3", Ask("ask_am_pm")),
        ("31 Februari", Invalid("no_such_date", "31 Februari")),
        ("2026-02-30", Invalid("no_such_date", "30 Februari")),
        ("2025-05-01", Invalid("past", "Kamis, 1 Mei 2025")),
        ("hari ini jam 08.00", Invalid("past", "Rabu, 25 November 2026")),
        ("2028-01-10", Invalid("too_far", "Senin, 10 Januari 2028")),
        ("5 Desember pukul 25.00", Invalid("bad_time", "pukul 25.00")),
        ("kapan-kapan saja", Invalid("unknown_date", "kapan-kapan saja")),
        # A time of day without an hour names the day; the hour is asked.
        ("besok pagi", NeedTime(date(2026, 11, 26))),
        ("nanti sore", NeedTime(date(2026, 11, 25))),
        ("jumat malam", NeedTime(date(2026, 11, 27))),
        # Half past: "setengah 10" is 09.30.
        ("besok jam setengah 10", Moment(datetime(2026, 11, 26, 9, 30, tzinfo=JAKARTA))),
        ("besok setengah 10", Moment(datetime(2026, 11, 26, 9, 30, tzinfo=JAKARTA))),
        ("lusa setengah 3 sore", Moment(datetime(2026, 11, 27, 14, 30, tzinfo=JAKARTA))),
        ("besok jam setengah 3", Ask("ask_am_pm")),
        ("besok jam setengah 9.30", Invalid("bad_time", "jam setengah 9.30")),
        # "jam 10an": about ten, read as 10.00 (the confirmation says 10.00).
        ("besok jam 10an", Moment(datetime(2026, 11, 26, 10, 0, tzinfo=JAKARTA))),
        ("besok jam 10-an", Moment(datetime(2026, 11, 26, 10, 0, tzinfo=JAKARTA))),
        # That weekday next week, however it is put.
        ("rabu minggu depan", NeedTime(date(2026, 12, 2))),
        ("minggu depan rabu", NeedTime(date(2026, 12, 2))),
        ("kamis pekan depan jam 10", Moment(datetime(2026, 12, 3, 10, 0, tzinfo=JAKARTA))),
        ("minggu minggu depan jam 9", Moment(datetime(2026, 12, 6, 9, 0, tzinfo=JAKARTA))),
        # A weekday with the date: checked against it, and asked back when it is wrong.
        ("Jumat, 27 November jam 10", Moment(datetime(2026, 11, 27, 10, 0, tzinfo=JAKARTA))),
        ("kamis, 27 november", Invalid("weekday_mismatch", "Jumat, 27 November 2026")),
        ("senin 5/12 jam 9", Invalid("weekday_mismatch", "Sabtu, 5 Desember 2026")),
    ],
)
def test_indonesian_dates(text: str, expected: object) -> None:
    assert parse_when(text, NOW) == expected


def test_confirmation_reads_like_a_person_wrote_it() -> None:
    moment = datetime(2026, 12, 7, 10, 0, tzinfo=JAKARTA)
    assert format_moment(moment, "WIB") == "Senin, 7 Desember 2026 pukul 10.00 WIB"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gets_a_date_a_question_or_an_error(text: str) -> None:
    result = parse_when(text, NOW)
    assert isinstance(result, Moment | NeedTime | Ask | Invalid)
    if isinstance(result, Moment):
        assert NOW < result.value <= NOW + timedelta(days=366)
    if isinstance(result, NeedTime):
        assert NOW.date() <= result.day <= NOW.date() + timedelta(days=365)


WORDS = st.sampled_from(
    [
        "besok",
        "lusa",
        "senin",
        "selasa",
        "rabu",
        "kamis",
        "jumat",
        "sabtu",
        "minggu",
        "depan",
        "ini",
        "hari",
        "lagi",
        "jam",
        "pukul",
        "pagi",
        "siang",
        "sore",
        "malam",
        "tanggal",
        "desember",
        "januari",
        "februari",
        "des",
        "jan",
        "2026",
        "2027",
        "1",
        "5",
        "12",
        "31",
        "29",
        "10.00",
        "14:30",
        "25.00",
        "3",
        "/",
        "-",
        "hr",
        "user",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(WORDS, max_size=6).map(" ".join), st.integers(0, 364), st.integers(0, 23))
def test_date_like_text_never_gives_a_past_moment(text: str, days: int, hour: int) -> None:
    now = datetime.combine(date(2026, 1, 1) + timedelta(days=days), time(hour, 0), JAKARTA)
    result = parse_when(text, now)
    if isinstance(result, Moment):
        assert result.value > now
    if isinstance(result, NeedTime):
        assert result.day >= now.date()
