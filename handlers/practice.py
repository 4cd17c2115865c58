"""/latihan as a conversation: a question, an answer and its feedback, then a retry of
the same question (compared with the first try), a hint, or the model answer.

The question stays open until it is replaced. After feedback, a new answer within
`RETRY_WINDOW` (or any time after "coba lagi") is a retry; later free text is not taken
for an answer any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from content.schema import Question
from handlers import feedback, help
from handlers.context import Context
from handlers.picker import next_question
from handlers.types import Button, Reply

STATE = "practice"
MIN_ANSWER_WORDS = 5
RETRY_WINDOW = timedelta(minutes=15)
BUTTON_ACTIONS = ("hint", "example", "retry")


def _outline(question: Question) -> str:
    return "\n".join(f"{i}. {point}" for i, point in enumerate(question.outline, start=1))


def _button(ctx: Context, action: str, question: Question) -> Button:
    return ctx.button(f"button_{action}", f"v1:latihan:{action}:{question.id}")


async def ask(ctx: Context, args: str = "") -> list[Reply]:
    user = ctx.user
    question = await next_question(ctx.served, ctx.library, user, user.mode)
    if question is None:
        return [Reply(ctx.say("no_content"))]
    await ctx.served.record(user.id, "question", question.id, ctx.now)
    await ctx.set_state(STATE, {"question_id": question.id, "mode": user.mode})
    text = ctx.say(
        "practice_question", mode=ctx.mode_label(), role=ctx.role_label(), question=question.text
    )
    buttons = (
        _button(ctx, "hint", question),
        ctx.button("button_next_question", "v1:latihan:next"),
    )
    return [Reply(text, buttons)]


def _data(ctx: Context) -> dict[str, Any]:
    return dict(ctx.state.data) if ctx.state is not None and ctx.state.name == STATE else {}


def _window_closed(data: dict[str, Any], now: datetime) -> bool:
    """After feedback the question takes a retry for a while; "coba lagi" reopens it."""
    last = data.get("last")
    if not last or data.get("retry"):
        return False
    return now - datetime.fromisoformat(str(last["at"])) > RETRY_WINDOW


def _hint(ctx: Context, question: Question) -> list[Reply]:
    buttons: tuple[Button, ...] = ()
    if question.example_answer:
        buttons = (_button(ctx, "example", question),)
    return [Reply(ctx.say("practice_hint", outline=_outline(question)), buttons)]


def _example(ctx: Context, question: Question) -> list[Reply]:
    if question.example_answer is None:
        return [Reply(ctx.say("practice_no_example", outline=_outline(question)))]
    return [Reply(ctx.say("practice_example", answer=question.example_answer))]


def awaiting_answer(ctx: Context) -> bool:
    """A question is open and not answered yet (or a retry was asked for): the next free
    text is its answer. After feedback it only stays open for a retry."""
    if ctx.state is None or ctx.state.name != STATE:
        return False
    return "last" not in ctx.state.data or bool(ctx.state.data.get("retry"))


async def _retry(ctx: Context, question: Question, data: dict[str, Any]) -> list[Reply]:
    await ctx.set_state(STATE, {**data, "retry": True})
    return [Reply(ctx.say("practice_retry", question=question.text))]


async def answer(ctx: Context, text: str) -> list[Reply]:
    data = _data(ctx)
    question = ctx.library.question(str(data.get("question_id", "")))
    if question is None:
        # The question left the library since it was asked: ask a fresh one.
        await ctx.clear_state()
        return await ask(ctx)
    cues = ctx.library.feedback_cues()
    # "coba lagi", a hint or the model answer are for the last question however long ago
    # it was; a new answer only within the retry window.
    request = feedback.request_kind(text, cues.reading, cues.requests)
    if request == "hint":
        return _hint(ctx, question)
    if request == "example":
        return _example(ctx, question)
    if request == "retry":
        return await _retry(ctx, question, data)
    if _window_closed(data, ctx.now):
        await ctx.clear_state()
        return await help.fallback(ctx, text)
    words = len(text.split())
    if words < MIN_ANSWER_WORDS:
        return [Reply(ctx.say("practice_answer_too_short", count=words))]

    mode = str(data.get("mode", ctx.user.mode))
    report = feedback.analyze(text, question, mode, cues, feedback.domain(ctx.library))
    if report.off_topic:
        return [Reply(ctx.say("practice_off_topic", question=question.text))]
    await ctx.attempts.add(
        user_id=ctx.user.id,
        question_id=question.id,
        mode=mode,
        answer=text,
        score=report.score,
        feedback_summary=report.summary,
        now=ctx.now,
    )
    last = data.get("last")
    before = (
        feedback.Attempt(int(last["score"]), tuple(last["parts"]), bool(last["evidence"]))
        if last
        else None
    )
    await ctx.set_state(
        STATE,
        {
            "question_id": question.id,
            "mode": mode,
            "last": {
                "score": report.score,
                "parts": list(report.parts_present),
                "evidence": bool(report.evidence),
                "at": ctx.now.isoformat(),
            },
        },
    )
    buttons = [_button(ctx, "retry", question)]
    if question.example_answer:
        buttons.append(_button(ctx, "example", question))
    buttons.append(ctx.button("button_next_question", "v1:latihan:next"))
    text_out = feedback.render(report, question, ctx.library.messages, before)
    return [Reply(text_out, tuple(buttons))]


def asks_for_help(ctx: Context, text: str) -> bool:
    """ "coba lagi", "hint" or "contoh jawaban" with no question open."""
    cues = ctx.library.feedback_cues()
    return feedback.request_kind(text, cues.reading, cues.requests) is not None


def button_allowed(value: str) -> bool:
    action, _, question_id = value.partition(":")
    return value == "next" or (action in BUTTON_ACTIONS and bool(question_id))


async def button(ctx: Context, value: str) -> list[Reply] | None:
    """A tap under a question or its feedback. Hint, example and retry apply only to the
    question still open; a tap under an older one is stale."""
    if value == "next":
        return await ask(ctx)
    action, _, question_id = value.partition(":")
    data = _data(ctx)
    question = ctx.library.question(question_id)
    if question is None or data.get("question_id") != question_id:
        return None
    if action == "hint":
        return _hint(ctx, question)
    if action == "example":
        return _example(ctx, question)
    return await _retry(ctx, question, data)
