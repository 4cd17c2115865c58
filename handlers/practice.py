"""/latihan: a practice question; the next free text is the answer and gets feedback."""

from __future__ import annotations

from handlers import feedback
from handlers.context import Context
from handlers.picker import next_question
from handlers.types import Reply

STATE = "practice"
MIN_ANSWER_WORDS = 5


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
    return [Reply(text, (ctx.button("button_next_question", "v1:latihan:next"),))]


async def answer(ctx: Context, text: str) -> list[Reply]:
    data = ctx.state.data if ctx.state else {}
    question = ctx.library.question(str(data.get("question_id", "")))
    if question is None:
        # The question left the library since it was asked: ask a fresh one.
        await ctx.clear_state()
        return await ask(ctx)
    words = len(text.split())
    if words < MIN_ANSWER_WORDS:
        return [Reply(ctx.say("practice_answer_too_short", count=words))]
    mode = str(data.get("mode", ctx.user.mode))
    report = feedback.analyze(text, question, mode, ctx.library.feedback_cues())
    await ctx.attempts.add(
        user_id=ctx.user.id,
        question_id=question.id,
        mode=mode,
        answer=text,
        score=report.score,
        feedback_summary=report.summary,
        now=ctx.now,
    )
    await ctx.clear_state()
    buttons = (
        ctx.button("button_next_question", "v1:latihan:next"),
        ctx.button("button_more_tips", "v1:tips:more"),
    )
    return [Reply(feedback.render(report, question, ctx.library.messages), buttons)]
