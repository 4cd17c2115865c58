"""Feedback on a typed answer: deterministic, offline, and every point traceable to a rule.

`analyze` measures the answer; `render` turns the measurements into the coach's words
from messages.yaml. The weights differ by mode: the HR round rewards a clear, honest,
positive story; the user round rewards proof (numbers, concrete actions, results).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from content.messages import Messages
from content.schema import FeedbackCues, Question, StarPart

STAR_PARTS: tuple[StarPart, ...] = ("situation", "task", "action", "result")
MAX_EVIDENCE_EXAMPLES = 3
# A number as proof; clock times ("pukul 02.00") are context, not results.
NUMBER = r"(?<![\w.,])(?<!pukul )(?<!jam )(?:rp\s?)?\d+(?:[.,]\d+)*(?:\s?%|x\b)?"
SENTENCE_END = re.compile(r"[.!?\n]+")

# (STAR, evidence, keywords, length) points per mode; each row adds up to 100.
WEIGHTS = {
    "hr": {"star": 40, "evidence": 10, "keywords": 30, "length": 20},
    "user": {"star": 35, "evidence": 25, "keywords": 25, "length": 15},
}
NEGATIVE_TALK_PENALTY = 25
FILLER_PENALTY_EACH, FILLER_PENALTY_MAX = 2, 10
KAMI_PENALTY = 5


def _normalize(text: str) -> str:
    return " " + re.sub(r"\s+", " ", text.lower()) + " "


def _cue_pattern(cue: str, whole_word: bool) -> re.Pattern[str]:
    end = r"(?!\w)" if whole_word else ""
    return re.compile(r"(?<!\w)" + re.escape(cue) + end)


def count_cues(text: str, cues: tuple[str, ...], whole_word: bool = False) -> Counter[str]:
    normalized = _normalize(text)
    counts: Counter[str] = Counter()
    for cue in cues:
        found = len(_cue_pattern(cue, whole_word).findall(normalized))
        if found:
            counts[cue] = found
    return counts


def has_cue(text: str, cues: tuple[str, ...]) -> bool:
    normalized = _normalize(text)
    return any(_cue_pattern(cue, whole_word=False).search(normalized) for cue in cues)


@dataclass(frozen=True)
class FeedbackReport:
    mode: str
    words: int
    seconds: int
    length_verdict: str  # "short" | "ok" | "long"
    ideal_seconds: tuple[int, int]
    star_present: tuple[str, ...]
    star_missing: tuple[str, ...]
    evidence: tuple[str, ...]
    fillers: dict[str, int]
    saya: int
    kami: int
    negative_talk: tuple[str, ...]
    keywords_covered: tuple[str, ...]
    keywords_missing: tuple[str, ...]
    score: int
    improvement: str = field(default="")

    @property
    def summary(self) -> str:
        """One line for the practice history."""
        return (
            f"skor {self.score}; {self.words} kata; STAR {len(self.star_present)}/4; "
            f"bukti {'ya' if self.evidence else 'tidak'}; "
            f"kata kunci {len(self.keywords_covered)}/"
            f"{len(self.keywords_covered) + len(self.keywords_missing)}; "
            f"perbaikan: {self.improvement}"
        )


def _negative_talk(answer: str, cues: FeedbackCues) -> tuple[str, ...]:
    found: list[str] = []
    for sentence in SENTENCE_END.split(answer):
        if has_cue(sentence, cues.employer_words):
            found.extend(count_cues(sentence, cues.negative_words))
    return tuple(dict.fromkeys(found))


# The single most useful change comes first, by what matters most in each round.
IMPROVEMENT_ORDER = {
    "hr": (
        "negative",
        "too_short",
        "thin",
        "keywords",
        "result",
        "kami",
        "fillers",
        "too_long",
        "situation",
        "action",
        "evidence",
    ),
    "user": (
        "too_short",
        "thin",
        "evidence",
        "result",
        "action",
        "keywords",
        "kami",
        "fillers",
        "too_long",
        "situation",
    ),
}


def analyze(answer: str, question: Question, mode: str, cues: FeedbackCues) -> FeedbackReport:
    words = len(answer.split())
    seconds = round(words / cues.words_per_minute * 60)
    low, high = cues.ideal_seconds["hr" if mode == "hr" else "user"]
    length = "short" if seconds < low else "long" if seconds > high else "ok"

    present = tuple(part for part in STAR_PARTS if has_cue(answer, cues.star.cues(part)))
    missing = tuple(part for part in STAR_PARTS if part not in present)

    units = "|".join(re.escape(unit) for unit in cues.evidence_units)
    with_unit = NUMBER + (rf"(?:\s(?:{units})\b)?" if units else "")
    numbers = [m.group(0).strip() for m in re.finditer(with_unit, answer, re.IGNORECASE)]
    evidence_words = list(count_cues(answer, cues.evidence_words))
    evidence = tuple(dict.fromkeys([*numbers, *evidence_words]))[:MAX_EVIDENCE_EXAMPLES]

    fillers = dict(count_cues(answer, cues.fillers, whole_word=True))
    saya = sum(count_cues(answer, ("saya", "aku"), whole_word=True).values())
    kami = count_cues(answer, ("kami",), whole_word=True)["kami"]
    negative = _negative_talk(answer, cues) if mode == "hr" else ()

    covered: list[str] = []
    uncovered: list[str] = []
    for keyword, alternatives in zip(
        question.keywords, question.keyword_alternatives(), strict=True
    ):
        (covered if has_cue(answer, alternatives) else uncovered).append(keyword.split("|")[0])

    weights = WEIGHTS["hr" if mode == "hr" else "user"]
    total_keywords = len(covered) + len(uncovered)
    length_points = {"ok": 1.0, "long": 0.6, "short": 0.0 if words < 25 else 0.4}[length]
    score = (
        weights["star"] * len(present) / len(STAR_PARTS)
        + weights["evidence"] * (1 if evidence else 0)
        + weights["keywords"] * (len(covered) / total_keywords if total_keywords else 1)
        + weights["length"] * length_points
    )
    kami_heavy = kami > saya
    score -= NEGATIVE_TALK_PENALTY if negative else 0
    score -= min(FILLER_PENALTY_MAX, FILLER_PENALTY_EACH * sum(fillers.values()))
    score -= KAMI_PENALTY if kami_heavy else 0
    flags = {
        "negative": bool(negative),
        # A short answer that already tells a whole story with proof needs depth, not
        # another example.
        "too_short": length == "short" and bool(missing or not evidence),
        "thin": length == "short" and not missing and bool(evidence),
        "too_long": length == "long",
        "evidence": not evidence,
        "result": "result" in missing,
        "action": "action" in missing,
        "situation": "situation" in missing,
        "keywords": len(covered) * 2 < total_keywords,
        "kami": kami_heavy,
        "fillers": bool(fillers),
    }
    improvement = next((name for name in IMPROVEMENT_ORDER[mode] if flags[name]), "polish")
    return FeedbackReport(
        mode=mode,
        words=words,
        seconds=seconds,
        length_verdict=length,
        ideal_seconds=(low, high),
        star_present=present,
        star_missing=missing,
        evidence=evidence,
        fillers=fillers,
        saya=saya,
        kami=kami,
        negative_talk=negative,
        keywords_covered=tuple(covered),
        keywords_missing=tuple(uncovered),
        score=max(0, min(100, round(score))),
        improvement=improvement,
    )


def _speaking_time(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes == 0:
        return f"{rest} detik"
    return f"{minutes} menit" + (f" {rest} detik" if rest else "")


def _quoted(items: object) -> str:
    return ", ".join(f"“{item}”" for item in items)  # type: ignore[attr-defined]


def render(report: FeedbackReport, question: Question, messages: Messages) -> str:
    say = messages.render
    star_names: dict[str, str] = {part: say(f"star_{part}") for part in STAR_PARTS}
    lines = [say("fb_header", score=report.score), ""]

    length = say("fb_length", words=report.words, seconds=_speaking_time(report.seconds))
    if report.length_verdict != "ok":
        low, high = (_speaking_time(s) for s in report.ideal_seconds)
        length += " " + say(f"fb_length_{report.length_verdict}", low=low, high=high)
    lines.append(length)

    if not report.star_present:
        lines.append(say("fb_star_none"))
    elif report.star_missing:
        lines.append(
            say(
                "fb_star",
                present=", ".join(star_names[p] for p in report.star_present),
                missing=", ".join(star_names[p] for p in report.star_missing),
            )
        )
    else:
        lines.append(say("fb_star_complete"))

    if report.evidence:
        lines.append(say("fb_evidence_yes", examples=_quoted(report.evidence)))
    else:
        lines.append(say("fb_evidence_no"))

    if report.fillers:
        fillers = ", ".join(f"“{word}” {n}x" for word, n in report.fillers.items())
        lines.append(say("fb_fillers", fillers=fillers))
    else:
        lines.append(say("fb_no_fillers"))

    pronoun_key = "fb_pronouns_kami" if report.kami > report.saya else "fb_pronouns_ok"
    lines.append(say(pronoun_key, saya=report.saya, kami=report.kami))

    if report.negative_talk:
        lines.append(say("fb_negative", words=_quoted(report.negative_talk)))

    missing_keywords = ", ".join(report.keywords_missing)
    if not report.keywords_covered:
        lines.append(say("fb_keywords_none", missing=missing_keywords))
    elif report.keywords_missing:
        covered = ", ".join(report.keywords_covered)
        lines.append(say("fb_keywords", covered=covered, missing=missing_keywords))
    else:
        lines.append(say("fb_keywords_all", covered=", ".join(report.keywords_covered)))

    advice_values = {"missing": ", ".join(report.keywords_missing[:3])}
    advice = say(f"improve_{report.improvement}", **advice_values)
    outline = "\n".join(f"{i}. {point}" for i, point in enumerate(question.outline, start=1))
    lines += ["", say("fb_improve", advice=advice), "", say("fb_outline", outline=outline)]
    return "\n".join(lines)
