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
# Experience: fresh graduate, 1-3 years, over 3 years, moving into IT from another field.
Level = Literal["fresh", "junior", "senior", "switcher"]
QuestionType = Literal["behavioural", "case", "concept", "motivation", "logistics"]
# What an answer to each type of question is made of, in the order it is usually told.
Part = Literal[
    "situation",
    "task",
    "action",
    "result",
    "clarify",
    "contain",
    "root_cause",
    "prevent",
    "definition",
    "example",
    "when",
    "specific",
    "forward",
    "range",
    "basis",
    "availability",
    "conditions",
]
TYPE_PARTS: dict[str, tuple[Part, ...]] = {
    "behavioural": ("situation", "task", "action", "result"),
    "case": ("clarify", "contain", "root_cause", "prevent"),
    "concept": ("definition", "example", "when"),
    "motivation": ("specific", "forward"),
    "logistics": ("range", "basis", "availability", "conditions"),
}
# What a tech lead listens for in the user round, on top of the question type's parts.
Rubric = Literal["dev_incident", "qa_bug", "data"]
MODES: tuple[Mode, ...] = ("hr", "user")
ROLES: tuple[Role, ...] = ("umum", "developer", "qa", "data")
LEVELS: tuple[Level, ...] = ("fresh", "junior", "senior", "switcher")

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
    type: QuestionType
    # Only the parts of the type that fit this question ("kapan bisa mulai?" needs no
    # salary range); all of them when left out.
    parts: tuple[Part, ...] | None = None
    rubric: Rubric | None = None
    topics: tuple[str, ...] = Field(min_length=1)
    text: Text
    looking_for: Text
    outline: tuple[Text, ...] = Field(min_length=2)
    keywords: tuple[Keyword, ...] = Field(min_length=1)
    follow_ups: tuple[Text, ...] = Field(min_length=1, max_length=2)
    example_answer: Text | None = None
    # The experience levels the question fits: one that presumes a job history ("why was
    # your contract not renewed?") leaves out "fresh". All levels when left out.
    levels: tuple[Level, ...] = Field(default=LEVELS, min_length=1)

    @field_validator("keywords")
    @classmethod
    def _alternatives_are_words(cls, keywords: tuple[str, ...]) -> tuple[str, ...]:
        for keyword in keywords:
            if any(not alt.strip() for alt in keyword.split("|")):
                raise ValueError(f"keyword {keyword!r} has an empty alternative around '|'")
        return keywords

    @model_validator(mode="after")
    def _parts_fit_the_type(self) -> Question:
        allowed = TYPE_PARTS[self.type]
        if self.parts is not None:
            if not self.parts:
                raise ValueError("parts: list at least one part, or leave parts out")
            wrong = [part for part in self.parts if part not in allowed]
            if wrong:
                raise ValueError(
                    f"parts {wrong} do not belong to type {self.type}; use some of {list(allowed)}"
                )
        if self.rubric is not None and self.mode != "user":
            raise ValueError("rubric is for user-round questions only")
        return self

    @property
    def judged_parts(self) -> tuple[Part, ...]:
        """The parts a full answer has, in the type's order."""
        allowed = TYPE_PARTS[self.type]
        chosen = self.parts or allowed
        return tuple(part for part in allowed if part in chosen)

    def keyword_alternatives(self) -> list[tuple[str, ...]]:
        return [tuple(alt.strip() for alt in keyword.split("|")) for keyword in self.keywords]

    def fits(self, mode: str, role: str, level: str | None = None) -> bool:
        """`level` None: the user has not said, and every question fits."""
        # Role-specific user-round questions come on top of the general ("umum") ones.
        fits_level = level is None or level in self.levels
        return self.mode == mode and (self.role == role or self.role == "umum") and fits_level


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
    # The evening before: "stop studying". Nothing that asks for study goes out that day,
    # not even the daily question.
    rest: bool = False

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


Phrase = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]


class ReadingRules(_Strict):
    """How typed Indonesian is read before anything is matched."""

    # Written forms and what they mean, word by word: "yg" -> "yang", "gak" -> "tidak".
    spellings: dict[Phrase, Phrase]
    # Words that carry no content of their own; a clause needs more than these.
    function_words: tuple[Phrase, ...]
    # Words too vague to carry a story on their own ("masalah", "kualitas", "langkah").
    empty_words: tuple[Phrase, ...]
    habitual: tuple[Phrase, ...]
    negations: tuple[Phrase, ...]
    first_person: tuple[Phrase, ...]
    team: tuple[Phrase, ...]
    # Words between "saya" and the verb that don't change who acts ("saya langsung cek").
    action_lead_ins: tuple[Phrase, ...]
    # Nouns that make the pronoun after them a possessive ("atasan saya", "tim kami").
    possessed: tuple[Phrase, ...]
    # Words after "saya" that describe the speaker rather than an act ("saya adalah").
    not_actions: tuple[Phrase, ...]


class NumberRules(_Strict):
    """What makes a number a measurable fact."""

    words: dict[Phrase, float]  # "dua" -> 2
    scales: dict[Phrase, int]  # "puluh" -> 10, "ribu" -> 1000
    # A number followed by one of these is a measurement ("3 jam", "40 persen").
    units: tuple[Phrase, ...]
    # Quantities without a digit ("ratusan pengguna", "dua kali lipat").
    quantity_phrases: tuple[Phrase, ...]
    # A number right after one of these is a label, not a result ("versi 2", "error 500").
    label_words: tuple[Phrase, ...]
    # A percentage or multiplier said of one of these measures nothing ("dampak naik
    # 30%", "efisiensi meningkat 3x"): nobody can say what was counted.
    unmeasured: tuple[Phrase, ...] = ()


class Negativity(_Strict):
    # An employer word within one sentence of a negative word is talk against them.
    employer_words: tuple[Phrase, ...]
    negative_words: tuple[Phrase, ...]
    # Negative on their own, whoever is meant ("politik kantor", "gak dihargai").
    phrases: tuple[Phrase, ...]


class Requests(_Strict):
    """Short messages that ask the coach for something instead of answering."""

    hint: tuple[Phrase, ...]
    example: tuple[Phrase, ...]
    retry: tuple[Phrase, ...]


class OffDomain(_Strict):
    """An answer with at least `min_words` word roots (beyond its cue words) outside the
    coaching vocabulary, making up more than `share` of them, is about something else."""

    min_words: int = Field(ge=1)
    share: float = Field(gt=0, lt=1)


RubricItem = Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")]


class FeedbackCues(_Strict):
    """Word lists the feedback engine looks for, matched at word starts after reading."""

    words_per_minute: int = Field(gt=50, lt=300)
    # The spoken length an interviewer expects, in seconds, per round.
    speaking_seconds: dict[Mode, tuple[int, int]]
    # Fewer words than this and a typed answer is too thin to speak from.
    min_words: dict[QuestionType, int]
    # A sentence longer than this is hard to follow when spoken.
    long_sentence_words: int = Field(gt=10)
    reading: ReadingRules
    numbers: NumberRules
    parts: dict[Part, tuple[Phrase, ...]]
    rubrics: dict[Rubric, dict[RubricItem, tuple[Phrase, ...]]]
    # What makes an answer about this company and role rather than any company.
    specifics: tuple[Phrase, ...]
    # Claims that sound like results but measure nothing ("lancar", "lebih baik").
    vague_claims: tuple[Phrase, ...]
    # The vocabulary of working life: an answer with none of it is about something else.
    work_words: tuple[Phrase, ...]
    not_details: tuple[Phrase, ...]
    off_domain: OffDomain
    fillers: tuple[Phrase, ...]
    negativity: Negativity
    requests: Requests

    @model_validator(mode="after")
    def _every_part_has_cues(self) -> FeedbackCues:
        missing = [
            part for parts in TYPE_PARTS.values() for part in parts if not self.parts.get(part)
        ]
        if missing:
            raise ValueError(f"parts without cue phrases: {missing}")
        return self


class FeedbackFile(_Strict):
    feedback: FeedbackCues


class ShortReply(_Strict):
    """A short answer from content to a message that is small talk or a coaching FAQ."""

    id: ItemId
    phrases: tuple[Phrase, ...] = Field(min_length=1)
    text: Text
    # Offer the practice and tip buttons under the answer.
    buttons: bool = False


class Conversation(_Strict):
    """How free text is understood before it is read as an answer. Matching is on the
    whole message, casefolded, without punctuation and without the filler words."""

    fillers: tuple[Phrase, ...] = ()
    # A short message that opens with one of these is a greeting ("halo kak", "pagi").
    greetings: tuple[Phrase, ...] = Field(min_length=1)
    # What each role is called, as typed in onboarding and in /peran.
    roles: dict[Role, tuple[Phrase, ...]]
    # How people say their experience, in onboarding and in /level.
    levels: dict[Level, tuple[Phrase, ...]] = Field(default_factory=dict)
    # A sentence that means a command: "mau latihan" -> "latihan", "ganti ke user" ->
    # "mode user". The key is the command line, without "/".
    commands: dict[Phrase, tuple[Phrase, ...]]
    replies: tuple[ShortReply, ...] = ()
    # The reply for a message of emoji only that no reply lists.
    emoji_reply: ItemId | None = None
    # Words that hint at a command, for the answer to a message the bot did not follow.
    hints: dict[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)


class ConversationFile(_Strict):
    conversation: Conversation


PLACEHOLDER = re.compile(r"{([a-z_]+)}")


class MessagesFile(_Strict):
    # Not stripped: leading spaces can be layout ("   • " in a list).
    messages: dict[str, Annotated[str, StringConstraints(min_length=1)]]
