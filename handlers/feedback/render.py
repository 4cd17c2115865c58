"""The feedback in the coach's words (messages.yaml): what is there, what is missing,
one improvement that quotes the candidate, and the outline points not yet covered."""

from __future__ import annotations

from dataclasses import dataclass

from content.messages import Messages
from content.schema import Question
from handlers.feedback.advice import choose
from handlers.feedback.judge import FeedbackReport


@dataclass(frozen=True)
class Attempt:
    """What the first try had, for comparing a retry with it."""

    score: int
    parts: tuple[str, ...]
    evidence: bool


def speaking_range(low: int, high: int) -> str:
    """ "1 sampai 2 menit", or with the units spelled on both ends when they differ."""
    if low % 60 == 0 and high % 60 == 0:
        return f"{low // 60} sampai {high // 60} menit"
    return f"{speaking_time(low)} sampai {speaking_time(high)}"


def speaking_time(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes == 0:
        return f"{rest} detik"
    return f"{minutes} menit" + (f" {rest} detik" if rest else "")


def _names(messages: Messages, keys: tuple[str, ...], prefix: str) -> str:
    return ", ".join(messages.render(f"{prefix}{key}") for key in keys)


def _retry_line(report: FeedbackReport, before: Attempt, messages: Messages) -> str:
    say = messages.render
    delta = report.score - before.score
    if delta < 0:
        return say("fb_retry_down", before=before.score, delta=-delta)
    if delta == 0:
        return say("fb_retry_same", before=before.score)
    gained = [p for p in report.parts_present if p not in before.parts]
    names = [say(f"part_{p}") for p in gained]
    if report.evidence and not before.evidence:
        names.append(say("part_evidence"))
    line = say("fb_retry_up", before=before.score, delta=delta)
    if names:
        line += " " + say("fb_retry_gained", parts=", ".join(names))
    return line


def render(
    report: FeedbackReport,
    question: Question,
    messages: Messages,
    before: Attempt | None = None,
) -> str:
    say = messages.render
    lines = [say("fb_header", score=report.score)]
    if before is not None:
        lines.append(_retry_line(report, before, messages))
    lines.append("")

    label = say(f"type_{report.question_type}")
    present, missing = report.parts_present, report.parts_missing
    if not present:
        lines.append(say("fb_parts_none", label=label, missing=_names(messages, missing, "part_")))
    elif missing:
        lines.append(
            say(
                "fb_parts",
                label=label,
                present=_names(messages, present, "part_"),
                missing=_names(messages, missing, "part_"),
            )
        )
    else:
        lines.append(
            say("fb_parts_complete", label=label, present=_names(messages, present, "part_"))
        )

    if report.evidence:
        examples = ", ".join(f"“{item}”" for item in report.evidence)
        lines.append(say("fb_evidence_yes", examples=examples))
    elif report.evidence_expected:
        lines.append(say("fb_evidence_no"))

    if report.question_type in ("behavioural", "case"):
        if report.own_actions:
            lines.append(say("fb_role_own"))
        elif report.team_actions:
            lines.append(say("fb_role_team"))
        elif report.question_type == "behavioural":
            lines.append(say("fb_role_none"))

    if report.rubric is not None:
        rubric = say(f"rubric_{report.rubric}")
        prefix = f"rubric_{report.rubric}_"
        if report.rubric_missing:
            lines.append(
                say(
                    "fb_rubric",
                    label=rubric,
                    present=_names(messages, report.rubric_present, prefix) or "-",
                    missing=_names(messages, report.rubric_missing, prefix),
                )
            )
        else:
            lines.append(say("fb_rubric_complete", label=rubric))

    generic_key = "fb_generic" if report.question_type == "motivation" else "fb_generic_story"
    for flag, key in (
        (report.copied, "fb_copied"),
        (report.repeated, "fb_repeated"),
        (report.listed, "fb_listed"),
        (report.template, "fb_template"),
        (report.generic and not report.template, generic_key),
        (report.rambling, "fb_rambling"),
    ):
        if flag:
            lines.append(say(key))
    if report.negative:
        lines.append(say("fb_negative", quote=report.negative))
    if report.fillers:
        fillers = ", ".join(f"“{word}” {n}x" for word, n in report.fillers.items())
        lines.append(say("fb_fillers", fillers=fillers))

    high = speaking_time(report.speaking_seconds[1])
    length = say("fb_length", words=report.words, seconds=speaking_time(report.seconds))
    if report.length == "short":
        length += " " + say("fb_length_short")
    elif report.length == "long":
        length += " " + say("fb_length_long", high=high)
    elif report.seconds < report.speaking_seconds[0]:
        detail = say(f"speak_detail_{report.question_type}")
        target = speaking_range(*report.speaking_seconds)
        length += " " + say("fb_length_speak", target=target, detail=detail)
    lines.append(length)

    improvement = choose(report)
    item = say(f"rubric_{report.rubric}_{improvement.item}") if improvement.item else ""
    advice = say(f"improve_{improvement.kind}", quote=improvement.quote, item=item)
    lines += ["", say("fb_improve", advice=advice)]
    if report.outline_missing and not report.gamed:
        points = "\n".join(f"• {point}" for point in report.outline_missing)
        lines += ["", say("fb_outline_missing", points=points)]
    return "\n".join(lines)
