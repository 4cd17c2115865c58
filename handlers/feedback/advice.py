"""The one improvement worth making next: the first thing a recruiter would miss, in the
order that matters for the question type, quoting the candidate's own words."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.feedback.judge import FeedbackReport

# The missing part a recruiter notices first, per question type.
PART_ORDER = {
    "behavioural": ("result", "action", "situation", "task"),
    "case": ("contain", "root_cause", "clarify", "prevent"),
    "concept": ("definition", "example", "when"),
    "motivation": ("specific", "forward"),
    "logistics": ("range", "availability", "basis", "conditions"),
}
# Which of the candidate's clauses each piece of advice quotes, best first.
QUOTE_FROM = {
    "result": ("action", "last"),
    "action": ("task", "situation", "first"),
    "situation": ("first",),
    "task": ("situation", "first"),
    "clarify": ("first",),
    "contain": ("root_cause", "clarify", "first"),
    "root_cause": ("contain", "clarify", "first"),
    "prevent": ("last",),
    "definition": ("first",),
    "example": ("definition", "first"),
    "when": ("last",),
    "specific": ("first",),
    "forward": ("last",),
    "range": ("first",),
    "basis": ("range", "first"),
    "availability": ("first",),
    "conditions": ("last",),
    "evidence": ("vague", "result", "last"),
    "template": ("vague", "last"),
    "team": ("team",),
    "rubric": ("last",),
    "rambling": ("longest",),
    "thin": ("last",),
    "negative": ("negative",),
}


@dataclass(frozen=True)
class Improvement:
    kind: str  # a messages.yaml key suffix: improve_<kind>
    quote: str
    item: str = ""  # the rubric item, for "rubric"


def _quote(report: FeedbackReport, kind: str) -> str:
    for source in QUOTE_FROM.get(kind, ()):
        if source in report.quotes:
            return report.quotes[source]
    return report.quotes.get("first", "")


def choose(report: FeedbackReport) -> Improvement:
    def make(kind: str, item: str = "") -> Improvement:
        return Improvement(kind, _quote(report, kind), item)

    if report.copied:
        return make("copied")
    if report.repeated:
        return make("repeated")
    if report.listed:
        return make("listed")
    if report.template:
        return make("template")
    if report.negative:
        return make("negative")
    missing = report.parts_missing
    for part in PART_ORDER[report.question_type]:
        if part in missing:
            return make(part)
    if report.evidence_expected and not report.evidence:
        return make("evidence")
    if report.team_actions and not report.own_actions and report.question_type == "behavioural":
        return make("team")
    if report.rubric_missing:
        return make("rubric", report.rubric_missing[0])
    if report.rambling:
        return make("rambling")
    if report.length == "short":
        return make("thin")
    if report.fillers:
        return make("fillers")
    if report.length == "long":
        return make("too_long")
    return make("polish")
