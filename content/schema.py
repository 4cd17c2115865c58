"""The shape of every content file. A writer's typo fails here with a clear message."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Mode = Literal["hr", "user"]
Role = Literal["umum", "developer", "qa", "data"]
StarPart = Literal["situation", "task", "action", "result"]
MODES: tuple[Mode, ...] = ("hr", "user")
ROLES: tuple[Role, ...] = ("umum", "developer", "qa", "data")

ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tip(_Strict):
    id: ItemId
    mode: Mode
    roles: tuple[Role, ...] | None = None
    topics: tuple[str, ...] = Field(min_length=1)
    text: Text
    action: Text

    def fits(self, mode: str, role: str) -> bool:
        return self.mode == mode and (self.roles is None or role in self.roles)

    @property
    def message(self) -> str:
        return f"{self.text}\n\n👉 {self.action}"


Keyword = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=2)]


class Question(_Strict):
    id: ItemId
    mode: Mode
    role: Role
    topics: tuple[str, ...] = Field(min_length=1)
    text: Text
    looking_for: Text
    outline: tuple[Text, ...] = Field(min_length=2)
    keywords: tuple[Keyword, ...] = Field(min_length=1)
    follow_ups: tuple[Text, ...] = Field(min_length=1, max_length=2)
    example_answer: Text | None = None

    @field_validator("keywords")
    @classmethod
    def _alternatives_are_words(cls, keywords: tuple[str, ...]) -> tuple[str, ...]:
        for keyword in keywords:
            if any(not alt.strip() for alt in keyword.split("|")):
                raise ValueError(f"keyword {keyword!r} has an empty alternative around '|'")
        return keywords

    def keyword_alternatives(self) -> list[tuple[str, ...]]:
        return [tuple(alt.strip() for alt in keyword.split("|")) for keyword in self.keywords]

    def fits(self, mode: str, role: str) -> bool:
        # Role-specific user-round questions come on top of the general ("umum") ones.
        return self.mode == mode and (self.role == role or self.role == "umum")


class AskBack(_Strict):
    id: ItemId
    round: Mode
    text: Text
    why: Text


class PlanStep(_Strict):
    """One message of the countdown plan before an interview. Exactly one of
    `days_before` (sent at the user's daily time that day), `hours_before` or
    `hours_after` (relative to the interview time) says when."""

    id: ItemId
    rounds: tuple[Mode, ...] = Field(default=MODES, min_length=1)
    days_before: int | None = Field(default=None, ge=1, le=7)
    hours_before: float | None = Field(default=None, gt=0, le=12)
    hours_after: float | None = Field(default=None, gt=0, le=48)
    # 1 is the most important. With fewer days left than the plan needs, steps with
    # priority 1-2 are squeezed into the remaining days; the rest are dropped.
    priority: int = Field(ge=1, le=5)
    title: Text
    text: Text
    action: Text
    practice: bool = False  # attach a practice question for the interview's round
    offer_user_round: bool = False  # after a good HR round: offer to register the user round

    @model_validator(mode="after")
    def _exactly_one_time(self) -> PlanStep:
        times = [self.days_before, self.hours_before, self.hours_after]
        if sum(t is not None for t in times) != 1:
            raise ValueError("give exactly one of days_before, hours_before, hours_after")
        return self

    @property
    def on_interview_day(self) -> bool:
        return self.hours_before is not None


class PlanFile(_Strict):
    plan: tuple[PlanStep, ...]


class DesignPoint(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    summary: Text
    topics: tuple[str, ...] = Field(min_length=1)


class TopicsFile(_Strict):
    topics: dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")], Text]
    design_points: tuple[DesignPoint, ...]


class TipsFile(_Strict):
    tips: tuple[Tip, ...]


class QuestionsFile(_Strict):
    questions: tuple[Question, ...]


class AskBackFile(_Strict):
    ask_back: tuple[AskBack, ...]


class StarCues(_Strict):
    situation: tuple[Keyword, ...] = Field(min_length=1)
    task: tuple[Keyword, ...] = Field(min_length=1)
    action: tuple[Keyword, ...] = Field(min_length=1)
    result: tuple[Keyword, ...] = Field(min_length=1)

    def cues(self, part: StarPart) -> tuple[str, ...]:
        cues: tuple[str, ...] = getattr(self, part)
        return cues


class FeedbackCues(_Strict):
    """Word lists the feedback engine looks for. Matched on word starts, lowercase."""

    words_per_minute: int = Field(gt=50, lt=300)
    ideal_seconds: dict[Mode, tuple[int, int]]
    star: StarCues
    evidence_words: tuple[Keyword, ...]
    # Words that may follow a number and belong to it in the feedback ("400 ms").
    evidence_units: tuple[Keyword, ...] = ()
    fillers: tuple[Keyword, ...]
    employer_words: tuple[Keyword, ...]
    negative_words: tuple[Keyword, ...]


class FeedbackFile(_Strict):
    feedback: FeedbackCues


PLACEHOLDER = re.compile(r"{([a-z_]+)}")


class MessagesFile(_Strict):
    # Not stripped: leading spaces can be layout ("   • " in a list).
    messages: dict[str, Annotated[str, StringConstraints(min_length=1)]]
