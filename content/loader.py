"""Reads the YAML files into a `Library`, collecting every problem instead of stopping at
the first, so `content check` can list them all for the writer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from content.messages import Messages
from content.phrasebook import PhraseBook
from content.schema import (
    AskBack,
    AskBackFile,
    Conversation,
    ConversationFile,
    DesignPoint,
    FeedbackCues,
    FeedbackFile,
    MessagesFile,
    PlanFile,
    PlanStep,
    Question,
    QuestionsFile,
    Tip,
    TipsFile,
    TopicsFile,
)

CONTENT_DIR = Path(__file__).parent / "data"

# Which schema a file follows is decided by its name, so a writer can split content into
# as many files as they like: tips_hr.yaml, tips_user_data.yaml, questions_qa.yaml, ...
FILE_KINDS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("tips", TipsFile),
    ("questions", QuestionsFile),
    ("ask_back", AskBackFile),
    ("plan", PlanFile),
    ("topics", TopicsFile),
    ("feedback", FeedbackFile),
    ("conversation", ConversationFile),
    ("messages", MessagesFile),
)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    item_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item_id}: {self.message}"


@dataclass
class Library:
    tips: list[Tip] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    ask_back: list[AskBack] = field(default_factory=list)
    plan: list[PlanStep] = field(default_factory=list)
    topics: dict[str, str] = field(default_factory=dict)
    design_points: list[DesignPoint] = field(default_factory=list)
    cues: FeedbackCues | None = None
    conversation: Conversation | None = None
    phrasebook: PhraseBook | None = None
    messages: Messages = field(default_factory=lambda: Messages({}))
    # Where each item came from, for problem reports.
    sources: dict[str, str] = field(default_factory=dict)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def feedback_cues(self) -> FeedbackCues:
        if self.cues is None:
            raise ContentError([Problem("feedback.yaml", "-", "file is missing")])
        return self.cues

    def phrases(self) -> PhraseBook:
        if self.phrasebook is None:
            raise ContentError([Problem("conversation.yaml", "-", "file is missing")])
        return self.phrasebook


class ContentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# libyaml's parser when PyYAML has it (the wheels do): the library loads at every start,
# about four times faster than with the pure-Python one.
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """Plain YAML keeps the last of two equal keys without a word; a writer who pastes a
    message twice should hear about it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _kind_of(path: Path) -> type[BaseModel] | None:
    return next((model for prefix, model in FILE_KINDS if path.stem.startswith(prefix)), None)


_LOC_INDEX = re.compile(r"^\d+$")


def _schema_problems(name: str, raw: Any, error: ValidationError) -> Iterator[Problem]:
    for detail in error.errors():
        loc = [str(part) for part in detail["loc"]]
        item_id = "-"
        # loc looks like ("tips", 3, "mode"): point at the item by its id when it has one.
        if len(loc) >= 2 and _LOC_INDEX.match(loc[1]) and isinstance(raw, dict):
            items = raw.get(loc[0])
            if isinstance(items, list) and int(loc[1]) < len(items):
                item = items[int(loc[1])]
                if isinstance(item, dict) and item.get("id"):
                    item_id = str(item["id"])
                else:
                    item_id = f"item #{int(loc[1]) + 1}"
            field_path = ".".join(loc[2:]) or loc[0]
        else:
            field_path = ".".join(loc)
        message = detail["msg"]
        if detail["type"] == "missing":
            message = "required field is missing"
        elif detail["type"] == "extra_forbidden":
            message = "unknown field (typo?)"
        elif "input" in detail and not isinstance(detail["input"], dict | list):
            message = f"{message} (got {detail['input']!r})"
        yield Problem(name, item_id, f"field '{field_path}': {message}")


def read_files(directory: Path) -> tuple[Library, list[Problem]]:
    """Parse and schema-check every YAML file. Cross-file rules live in `content.lint`."""
    library = Library()
    problems: list[Problem] = []
    message_templates: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        name = path.name
        model = _kind_of(path)
        if model is None:
            problems.append(
                Problem(
                    name, "-", "unknown file name; start it with tips, questions, ask_back, ..."
                )
            )
            continue
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        except yaml.YAMLError as error:
            problems.append(Problem(name, "-", f"YAML syntax error: {error}"))
            continue
        try:
            parsed = model.model_validate(raw)
        except ValidationError as error:
            problems.extend(_schema_problems(name, raw, error))
            continue
        _collect(library, parsed, name, message_templates)
    library.messages = Messages(message_templates)
    return library, problems


T = TypeVar("T", Tip, Question, AskBack, PlanStep)


def _add_items(library: Library, target: list[T], items: tuple[T, ...], name: str) -> None:
    target.extend(items)
    for item in items:
        library.sources.setdefault(item.id, name)


def _collect(library: Library, parsed: BaseModel, name: str, templates: dict[str, str]) -> None:
    if isinstance(parsed, TipsFile):
        _add_items(library, library.tips, parsed.tips, name)
    elif isinstance(parsed, QuestionsFile):
        _add_items(library, library.questions, parsed.questions, name)
    elif isinstance(parsed, AskBackFile):
        _add_items(library, library.ask_back, parsed.ask_back, name)
    elif isinstance(parsed, PlanFile):
        _add_items(library, library.plan, parsed.plan, name)
    elif isinstance(parsed, TopicsFile):
        library.topics = dict(parsed.topics)
        library.design_points = list(parsed.design_points)
    elif isinstance(parsed, FeedbackFile):
        library.cues = parsed.feedback
    elif isinstance(parsed, ConversationFile):
        library.conversation = parsed.conversation
        library.phrasebook = PhraseBook(parsed.conversation)
    elif isinstance(parsed, MessagesFile):
        templates.update(parsed.messages)


def load_library(directory: Path = CONTENT_DIR) -> Library:
    """The library the bot runs on. Refuses content that breaks the bot; the editorial
    checks (spelling, near-duplicates) are left to `content check`, so the bot needs no
    hunspell at run time."""
    from content.lint import lint

    library, problems = lint(directory, editorial=False)
    if problems:
        raise ContentError(problems)
    return library
