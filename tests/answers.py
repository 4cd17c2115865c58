"""Answers that fit the question a test is shown. The feedback tells an answer to another
question apart, so a test that only needs "some feedback" answers the question it got
with that question's own model answer."""

from __future__ import annotations

from content.loader import Library
from content.schema import Question
from handlers.picker import pick_next


def question_shown(library: Library, message: str) -> Question:
    question = next((q for q in library.questions if q.text in message), None)
    assert question is not None, f"no question of the library in {message!r}"
    return question


def model_answer(question: Question) -> str:
    assert question.example_answer, f"{question.id} has no example answer to answer with"
    return " ".join(question.example_answer.split())


def answer_to(library: Library, message: str) -> str:
    return model_answer(question_shown(library, message))


def first_question(library: Library, mode: str, role: str, user_id: int = 1) -> Question:
    """The question a new user (the first in a fresh database) gets first."""
    pool = [q for q in library.questions if q.fits(mode, role)]
    question = pick_next(pool, {}, user_id)
    assert question is not None
    return question
