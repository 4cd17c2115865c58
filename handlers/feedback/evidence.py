"""Measurable facts in a clause: "40%", "Rp8 juta", "dari 2 hari jadi 3 jam", "ratusan
pengguna". Not evidence: list numbering (the reader strips it), years, versions, HTTP
status codes, clock times, dates and "N+1"."""

from __future__ import annotations

import re

from content.schema import NumberRules
from handlers.feedback.reading import Clause, found

# "40%", "Rp8", "3x", "12-14" (a range), "2,5".
DIGITS = re.compile(
    r"^(?P<rp>rp\.?)?(?P<n>\d+(?:[.,]\d+)*)(?:[-–]\d+(?:[.,]\d+)*)?(?P<suffix>%|x|k)?$"
)
VERSION = re.compile(r"^v\d|^\d+\.\d+\.\d+")
CLOCK_OR_DATE = re.compile(r"^\d{1,2}[.:/]\d{2}$")
HTTP_FAMILY = re.compile(r"^[1-5]xx$")
YEAR = re.compile(r"^(?:19|20)\d{2}$")
HTTP_WORDS = frozenset({"error", "errors", "status", "code", "response", "http"})
BIG_NUMBER = 1000
# How far back a percentage looks for what it measures: "bug turun 45%", "dampaknya
# biasanya naik 40%".
MEASURED_WINDOW = 3
RELATIVE_UNITS = frozenset({"persen", "%", "kali", "x"})


def _unit_after(words: tuple[str, ...], index: int, rules: NumberRules) -> str | None:
    for width in (2, 1):
        phrase = " ".join(words[index + 1 : index + 1 + width])
        if phrase and phrase in rules.units:
            return phrase
    return None


def _value(number: str) -> float:
    cleaned = number.replace(".", "").replace(",", ".") if "," in number else number
    if cleaned.count(".") == 1 and len(cleaned.split(".")[1]) == 3:
        cleaned = cleaned.replace(".", "")  # "40.000" is forty thousand
    try:
        return float(cleaned.replace(".", "", cleaned.count(".") - 1))
    except ValueError:
        return 0.0


def _is_label(words: tuple[str, ...], index: int, rules: NumberRules) -> bool:
    before = words[index - 1] if index else ""
    before_two = " ".join(words[max(0, index - 2) : index])
    return before in rules.label_words or before_two in rules.label_words or before == "+"


def _measures_nothing(words: tuple[str, ...], index: int, rules: NumberRules) -> bool:
    for word in reversed(words[max(0, index - MEASURED_WINDOW) : index]):
        if DIGITS.match(word.rstrip(",")):
            return False
        if word.rstrip(",") in rules.unmeasured:
            return True
    return False


def _digit_fact(
    words: tuple[str, ...], raw: tuple[str, ...], i: int, rules: NumberRules
) -> str | None:
    word = words[i]
    match = DIGITS.match(word.rstrip(","))
    if match is None:
        return None
    unit = _unit_after(words, i, rules)
    relative = match["suffix"] in ("%", "x") or unit in RELATIVE_UNITS
    if relative and _measures_nothing(words, i, rules):
        return None
    if match["rp"] or match["suffix"] in ("%", "x"):
        width = len(unit.split()) if unit and match["rp"] else 0
        return " ".join(raw[i : i + 1 + width]).strip(",.:;")
    if _is_label(words, i, rules) and unit is None:
        return None
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if len(match["n"]) == 3 and match["n"][0] in "12345" and nxt in HTTP_WORDS:
        return None
    if YEAR.match(match["n"]) and (unit is None or unit == "tahun"):
        return None
    if CLOCK_OR_DATE.match(match["n"]) and unit is None:
        return None
    if unit is not None:
        return " ".join(raw[i : i + 1 + len(unit.split())]).strip(",.:;")
    if _value(match["n"]) >= BIG_NUMBER and "." in match["n"]:
        return raw[i].strip(",.:;")
    return None


def _word_fact(
    words: tuple[str, ...], raw: tuple[str, ...], i: int, rules: NumberRules
) -> tuple[str | None, int]:
    """A number written in words ("dua hari", "tiga ratus ribu pengguna"); returns the
    fact and how many words it used."""
    if words[i] not in rules.words:
        return None, 1
    end = i + 1
    while end < len(words) and (words[end] in rules.scales or words[end] in rules.words):
        end += 1
    unit = _unit_after(words, end - 1, rules)
    if unit is None or _is_label(words, i, rules):
        return None, end - i
    return " ".join(raw[i : end + len(unit.split())]).strip(",.:;"), end - i


def facts(clause: Clause, rules: NumberRules) -> list[str]:
    words, raw = clause.words, clause.raw
    result: list[str] = []
    i = 0
    while i < len(words):
        if VERSION.match(words[i]) or HTTP_FAMILY.match(words[i]):
            i += 1
            continue
        fact = _digit_fact(words, raw, i, rules)
        step = 1
        if fact is None:
            fact, step = _word_fact(words, raw, i, rules)
        if fact:
            result.append(fact)
        i += step
    result.extend(found(clause.text, rules.quantity_phrases))
    return list(dict.fromkeys(result))
