"""`interview-coach content check`: every rule a writer can break, reported per item.
The rules are explained for writers in docs/content.md."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from content import similarity, spelling, terms
from content.loader import Library, Problem, read_files
from content.messages import MESSAGE_FIELDS, placeholders
from content.schema import MODES

MAX_TIP_WORDS = 60
MAX_SHORT_REPLY_WORDS = 70
MIN_TIPS_PER_DESIGN_POINT = 3
REQUIRED_FILES = ("topics.yaml", "feedback.yaml", "messages.yaml", "conversation.yaml")
CONVERSATION = "conversation.yaml"
# Telegram and WhatsApp both cut text messages at 4,096 characters. Telegram counts UTF-16
# code units (an emoji can count twice), so that is what is counted here.
MAX_MESSAGE_CHARS = 4096
# WhatsApp reply buttons: at most 20 characters. Every button_* and label_* message is one.
MAX_BUTTON_CHARS = 20
BUTTON_PREFIXES = ("button_", "label_")
# Telegram's command menu: descriptions of 3 to 256 characters.
MAX_COMMAND_DESCRIPTION_CHARS = 256
# A placeholder the check cannot fill from the library counts as this many characters.
SAMPLE_VALUE = "x" * 40


def word_count(text: str) -> int:
    return len(text.split())


def _required_files(directory: Path) -> list[Problem]:
    return [
        Problem(name, "-", "file is missing")
        for name in REQUIRED_FILES
        if not (directory / name).is_file()
    ]


def _duplicate_ids(library: Library) -> list[Problem]:
    ids = [item.id for item in library.tips]
    ids += [item.id for item in library.questions]
    ids += [item.id for item in library.ask_back]
    ids += [item.id for item in library.plan]
    counts = Counter(ids)
    return [
        Problem(library.sources.get(item_id, "-"), item_id, f"id is used {count} times")
        for item_id, count in counts.items()
        if count > 1
    ]


def _unknown_topics(library: Library) -> list[Problem]:
    problems = []
    tagged: list[tuple[str, tuple[str, ...]]] = [(t.id, t.topics) for t in library.tips]
    tagged += [(q.id, q.topics) for q in library.questions]
    for item_id, topics in tagged:
        for topic in topics:
            if topic not in library.topics:
                problems.append(
                    Problem(
                        library.sources[item_id],
                        item_id,
                        f"unknown topic {topic!r}; see topics.yaml for the list",
                    )
                )
    for point in library.design_points:
        problems.extend(
            Problem("topics.yaml", point.id, f"unknown topic {topic!r}")
            for topic in point.topics
            if topic not in library.topics
        )
    return problems


def _long_tips(library: Library) -> list[Problem]:
    problems = []
    for tip in library.tips:
        words = word_count(tip.text) + word_count(tip.action)
        if words > MAX_TIP_WORDS:
            problems.append(
                Problem(
                    library.sources[tip.id],
                    tip.id,
                    f"tip is {words} words (text + action); keep it at {MAX_TIP_WORDS} or fewer",
                )
            )
    return problems


def _messages(library: Library) -> list[Problem]:
    if not library.messages:
        return []
    problems = [
        Problem("messages.yaml", key, "message is missing")
        for key in MESSAGE_FIELDS
        if key not in library.messages
    ]
    for key in library.messages:
        if key not in MESSAGE_FIELDS:
            problems.append(Problem("messages.yaml", key, "unknown message key (typo?)"))
            continue
        try:
            used = placeholders(library.messages.template(key))
        except ValueError as error:
            problems.append(Problem("messages.yaml", key, f"broken braces: {error}"))
            continue
        allowed = MESSAGE_FIELDS[key]
        for name in sorted(used - allowed):
            hint = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
            problems.append(
                Problem("messages.yaml", key, f"unknown placeholder {{{name}}}; allowed: {hint}")
            )
    return problems


def design_point_coverage(library: Library) -> dict[str, int]:
    return {
        point.id: sum(1 for tip in library.tips if set(tip.topics) & set(point.topics))
        for point in library.design_points
    }


def _coverage(library: Library) -> list[Problem]:
    return [
        Problem(
            "topics.yaml",
            point_id,
            f"only {count} tip(s) cover this point; at least {MIN_TIPS_PER_DESIGN_POINT} needed",
        )
        for point_id, count in design_point_coverage(library).items()
        if count < MIN_TIPS_PER_DESIGN_POINT
    ]


def _clearer(problem: Problem) -> Problem:
    """Schema messages a writer may not understand, said plainly."""
    if problem.message.startswith("field 'keywords':") and (
        "at least 1 item" in problem.message
        or "required field is missing" in problem.message
        or "valid tuple" in problem.message
    ):
        return Problem(
            problem.file,
            problem.item_id,
            "field 'keywords': the question has no keywords; list at least one word a good "
            "answer should mention (alternatives separated by |), see docs/content.md",
        )
    return problem


def _unreachable_tips(library: Library) -> list[Problem]:
    return [
        Problem(
            library.sources[tip.id],
            tip.id,
            "field 'roles' is empty, so no user ever gets this tip; leave it out for every role",
        )
        for tip in library.tips
        if tip.roles is not None and not tip.roles
    ]


def _rounds_covered(library: Library, broken: set[str]) -> list[Problem]:
    """Each round needs questions to ask back and a step on the interview day. Not said
    when a file of that kind failed to load: its own problem explains the gap."""
    problems = []
    checks = (
        (
            "ask_back",
            library.ask_back,
            "no questions to ask back for the {mode} round; /tanya_balik would show none",
        ),
        (
            "plan",
            library.plan,
            "the plan has no step for the day of the interview in the {mode} round; add one "
            "with hours_before and with {mode} in its rounds",
        ),
    )
    for prefix, items, message in checks:
        if any(name.startswith(prefix) for name in broken):
            continue
        file = library.sources[items[0].id] if items else f"{prefix}.yaml"
        for mode in MODES:
            if prefix == "ask_back":
                covered = any(item.round == mode for item in library.ask_back)
            else:
                covered = any(s.on_interview_day and mode in s.rounds for s in library.plan)
            if not covered:
                problems.append(Problem(file, f"round {mode}", message.format(mode=mode)))
    return problems


def similarity_kinds(library: Library) -> dict[str, tuple[tuple[str, str], ...]]:
    """(id, text) of the items compared for near-duplicates, per kind."""
    return {
        "tip": tuple((t.id, f"{t.text} {t.action}") for t in library.tips),
        "question": tuple((q.id, q.text) for q in library.questions),
        "ask-back question": tuple((a.id, a.text) for a in library.ask_back),
        "plan step": tuple((p.id, f"{p.title} {p.text} {p.action}") for p in library.plan),
    }


def _near_duplicates(library: Library) -> list[Problem]:
    problems = []
    for kind, items in similarity_kinds(library).items():
        for pair in _similar_pairs(items):
            problems.append(
                Problem(
                    library.sources[pair.second],
                    pair.second,
                    f"{kind} is nearly the same as {pair.first} "
                    f"({library.sources[pair.first]}): {pair.describe()}; "
                    "rewrite one of them or remove it",
                )
            )
    return problems


@lru_cache(maxsize=32)
def _similar_pairs(items: tuple[tuple[str, str], ...]) -> list[similarity.Pair]:
    return similarity.compare(items)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Sample(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return SAMPLE_VALUE


def _fill(library: Library, key: str, **values: object) -> str:
    """A message as the bot sends it; unknown placeholders get `SAMPLE_VALUE`."""
    if key not in library.messages:
        return "\n".join(str(v) for v in values.values())
    template = library.messages.template(key)
    try:
        return template.format_map(_Sample(values))
    except (ValueError, IndexError, KeyError, AttributeError):
        return template  # broken braces are reported by _messages


def _longest_label(library: Library, prefix: str) -> str:
    labels = [library.messages.template(key) for key in library.messages if key.startswith(prefix)]
    return max(labels, key=len, default=SAMPLE_VALUE)


def _sent_messages(library: Library) -> Iterator[tuple[str, str, str, str]]:
    """(file, item id, what, text) for every message the bot can send from the content, as
    the handlers put it together (handlers/tips.py, practice.py, ask_back.py and
    scheduler/compose.py)."""
    mode, role = _longest_label(library, "label_mode_"), _longest_label(library, "label_role_")
    for tip in library.tips:
        text = _fill(library, "tip_header", mode=mode) + "\n\n" + tip.message
        yield library.sources[tip.id], tip.id, "tip", text
    for q in library.questions:
        source = library.sources[q.id]
        practice = _fill(library, "practice_question", mode=mode, role=role, question=q.text)
        yield source, q.id, "practice question", practice
        yield source, q.id, "daily question", _fill(library, "daily_question", question=q.text)
        if q.example_answer is not None:
            yield source, q.id, "example answer", q.example_answer
    for item in library.ask_back:
        text = _fill(library, "ask_back_item", text=item.text, why=item.why)
        yield library.sources[item.id], item.id, "ask-back question", text
    for step in library.plan:
        header = _fill(library, "plan_header", mode=mode)
        text = f"{header}\n\n{step.title}\n\n{step.text}\n\n👉 {step.action}"
        yield library.sources[step.id], step.id, "plan step", text
    for key in library.messages:
        yield "messages.yaml", key, "message", _fill(library, key)
    for reply in library.conversation.replies if library.conversation else ():
        yield CONVERSATION, reply.id, "reply", reply.text


def _long_messages(library: Library) -> list[Problem]:
    problems = []
    for file, item_id, what, text in _sent_messages(library):
        length = _utf16_length(text)
        if length > MAX_MESSAGE_CHARS:
            problems.append(
                Problem(
                    file,
                    item_id,
                    f"{what} is {length:,} characters as sent; Telegram and WhatsApp allow "
                    f"at most {MAX_MESSAGE_CHARS:,}, so cut {length - MAX_MESSAGE_CHARS:,}",
                )
            )
    return problems


_SAYA = re.compile(r"\bsaya\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def _example_answers(library: Library) -> list[Problem]:
    """A model answer is the candidate speaking ("saya") to "Bapak/Ibu", with a result
    in numbers: that is what the feedback teaches, so the example must do it too."""
    problems = []
    for question in library.questions:
        answer = question.example_answer
        if answer is None:
            continue
        missing = [
            what
            for what, ok in (
                ('"saya"', _SAYA.search(answer)),
                ('"Bapak/Ibu"', "Bapak/Ibu" in answer),
                ("a number (a quantified result)", _DIGIT.search(answer)),
            )
            if not ok
        ]
        if missing:
            problems.append(
                Problem(
                    library.sources[question.id],
                    question.id,
                    "example_answer lacks " + ", ".join(missing),
                )
            )
    return problems + _example_answers_pass(library)


# A model answer must be one the feedback would call strong.
MIN_EXAMPLE_SCORE = 70


def _example_answers_pass(library: Library) -> list[Problem]:
    """Each example answer passes its own question's checks: every part the question
    type calls for, proof where it counts, and a strong score."""
    if library.cues is None:
        return []
    from handlers.feedback import analyze, domain  # the engine reads content

    known = domain(library)

    problems = []
    for question in library.questions:
        if question.example_answer is None:
            continue
        report = analyze(question.example_answer, question, question.mode, library.cues, known)
        faults = [f"misses {part}" for part in report.parts_missing]
        if report.evidence_expected and not report.evidence:
            faults.append("has no measurable result")
        if report.off_topic:
            faults.append("reads as off topic")
        if report.score < MIN_EXAMPLE_SCORE:
            faults.append(f"scores {report.score} (at least {MIN_EXAMPLE_SCORE})")
        if faults:
            problems.append(
                Problem(
                    library.sources[question.id],
                    question.id,
                    f"example_answer fails its own {question.type} checks: " + ", ".join(faults),
                )
            )
    return problems


def _buttons(library: Library) -> list[Problem]:
    problems = []
    for key in library.messages:
        text = library.messages.template(key)
        if key.startswith(BUTTON_PREFIXES) and len(text) > MAX_BUTTON_CHARS:
            problems.append(
                Problem(
                    "messages.yaml",
                    key,
                    f"button label {text!r} is {len(text)} characters; WhatsApp buttons "
                    f"allow at most {MAX_BUTTON_CHARS}",
                )
            )
        if key.startswith("cmd_") and len(text) > MAX_COMMAND_DESCRIPTION_CHARS:
            problems.append(
                Problem(
                    "messages.yaml",
                    key,
                    f"command description is {len(text)} characters; Telegram allows at most "
                    f"{MAX_COMMAND_DESCRIPTION_CHARS}",
                )
            )
    return problems


def _plan_placeholders(library: Library) -> list[Problem]:
    """Plan steps are sent as written, except {time_left} in a step timed by
    hours_before: any other brace would reach the user as it is."""
    problems = []
    for step in library.plan:
        for field in ("title", "text", "action"):
            for name in sorted(set(re.findall(r"{([^{}]*)}", getattr(step, field)))):
                if name == "time_left" and step.hours_before is not None:
                    continue
                problems.append(
                    Problem(
                        library.sources[step.id],
                        step.id,
                        f"placeholder {{{name}}} in {field} is never filled in; a plan step "
                        "allows only {time_left}, in a step with hours_before",
                    )
                )
    return problems


def _conversation(library: Library) -> list[Problem]:
    """Phrases that could never match, or could mean two things; commands and replies
    that do not exist."""
    talk = library.conversation
    if talk is None:
        return []
    # The bot's commands are the router's; imported here so content loads without it.
    from handlers.router import ALIASES, COMMANDS

    book = library.phrases()
    problems: list[Problem] = []
    meaning: dict[str, str] = {}

    def listed(section: str, phrases: tuple[str, ...]) -> None:
        for phrase in phrases:
            key = book.key(phrase)
            if not key:
                problems.append(
                    Problem(CONVERSATION, section, f"phrase {phrase!r} is only filler words")
                )
            elif meaning.setdefault(key, section) != section:
                problems.append(
                    Problem(
                        CONVERSATION,
                        section,
                        f"phrase {phrase!r} is also listed under {meaning[key]}; keep it in one",
                    )
                )

    for role, phrases in talk.roles.items():
        listed(f"roles.{role}", phrases)
    for level, phrases in talk.levels.items():
        listed(f"levels.{level}", phrases)
    known = set(COMMANDS) | set(ALIASES)
    for line, phrases in talk.commands.items():
        if line.split()[0] not in known:
            problems.append(Problem(CONVERSATION, f"commands.{line}", "no such command"))
        listed(f"commands.{line}", phrases)
    ids = Counter(reply.id for reply in talk.replies)
    problems += [
        Problem(CONVERSATION, f"replies.{reply_id}", f"id is used {count} times")
        for reply_id, count in ids.items()
        if count > 1
    ]
    for reply in talk.replies:
        listed(f"replies.{reply.id}", reply.phrases)
        if word_count(reply.text) > MAX_SHORT_REPLY_WORDS:
            problems.append(
                Problem(
                    CONVERSATION,
                    f"replies.{reply.id}",
                    f"reply is {word_count(reply.text)} words; small talk and FAQ answers "
                    f"stay under {MAX_SHORT_REPLY_WORDS}",
                )
            )
    if talk.emoji_reply is not None and talk.emoji_reply not in ids:
        problems.append(
            Problem(CONVERSATION, "emoji_reply", f"no reply has the id {talk.emoji_reply!r}")
        )
    problems += [
        Problem(CONVERSATION, f"hints.{command}", "no such command")
        for command in talk.hints
        if command not in known
    ]
    return problems


def spelling_texts(library: Library) -> Iterator[spelling.Text]:
    """Everything a user reads. Not ids, topics, keywords or feedback cue words."""
    for tip in library.tips:
        source = library.sources[tip.id]
        yield spelling.Text(source, tip.id, "text", tip.text)
        yield spelling.Text(source, tip.id, "action", tip.action)
    for q in library.questions:
        source = library.sources[q.id]
        yield spelling.Text(source, q.id, "text", q.text)
        yield spelling.Text(source, q.id, "looking_for", q.looking_for)
        for n, line in enumerate(q.outline, start=1):
            yield spelling.Text(source, q.id, f"outline {n}", line)
        for n, line in enumerate(q.follow_ups, start=1):
            yield spelling.Text(source, q.id, f"follow_ups {n}", line)
        if q.example_answer is not None:
            yield spelling.Text(source, q.id, "example_answer", q.example_answer)
    for item in library.ask_back:
        source = library.sources[item.id]
        yield spelling.Text(source, item.id, "text", item.text)
        yield spelling.Text(source, item.id, "why", item.why)
    for step in library.plan:
        source = library.sources[step.id]
        for field in ("title", "text", "action"):
            yield spelling.Text(source, step.id, field, getattr(step, field))
    for key in library.messages:
        yield spelling.Text("messages.yaml", key, "message", library.messages.template(key))
    for reply in library.conversation.replies if library.conversation else ():
        yield spelling.Text(CONVERSATION, reply.id, "text", reply.text)


def _preferred_terms(library: Library, directory: Path) -> list[Problem]:
    found, bad_lines = terms.read_terms(directory / terms.TERMS_NAME)
    problems = [Problem(terms.TERMS_NAME, f"line {number}", text) for number, text in bad_lines]
    for misuse in terms.misuses(spelling_texts(library), found):
        text = misuse.text
        problems.append(
            Problem(
                text.file,
                text.item_id,
                f"write {misuse.term.prefer!r}, not {misuse.found!r}, in {text.field} "
                f"(one word per thing, see {terms.TERMS_NAME})",
            )
        )
    return problems


def _spelling(library: Library, directory: Path) -> list[Problem]:
    allowlist = directory / spelling.ALLOWLIST_NAME
    allowed, bad_lines = spelling.read_allowlist(allowlist)
    problems = [
        Problem(spelling.ALLOWLIST_NAME, f"line {number}", message) for number, message in bad_lines
    ]
    found_terms, _ = terms.read_terms(directory / terms.TERMS_NAME)
    allowed |= terms.single_words(found_terms)  # reported by _preferred_terms, with the fix
    nonstandard_terms, bad_nonstandard = terms.read_terms(directory / spelling.NONSTANDARD_NAME)
    problems += [
        Problem(spelling.NONSTANDARD_NAME, f"line {number}", message)
        for number, message in bad_nonstandard
    ]
    nonstandard = tuple((t.avoid.lower(), t.prefer) for t in nonstandard_terms)
    try:
        found = _misspellings(tuple(spelling_texts(library)), allowed, nonstandard)
    except spelling.SpellcheckerMissing as error:
        return [*problems, Problem("spelling", spelling.DICTIONARY, str(error))]
    for miss in found:
        hint = f" (suggested: {', '.join(miss.suggestions)})" if miss.suggestions else ""
        problems.append(
            Problem(
                miss.file,
                miss.item_id,
                f"misspelled {miss.word!r} in {miss.field}{hint}; fix it, or if the word is "
                f"right add it to {spelling.ALLOWLIST_NAME}",
            )
        )
    return problems


@lru_cache(maxsize=32)
def _misspellings(
    texts: tuple[spelling.Text, ...],
    allowed: frozenset[str],
    nonstandard: tuple[tuple[str, str], ...],
) -> list[spelling.Misspelling]:
    # Cached: the bot's tests load the same library many times in one process.
    return spelling.misspellings(texts, allowed, dict(nonstandard))


def lint(directory: Path, *, editorial: bool = True) -> tuple[Library, list[Problem]]:
    """Every problem in the content folder. `editorial` adds the checks about the writing
    that the bot can run without: near-duplicates, model-answer form and spelling (which
    needs hunspell)."""
    library, read_problems = read_files(directory)
    problems = [
        *_required_files(directory),
        *(_clearer(problem) for problem in read_problems),
        *_duplicate_ids(library),
        *_unknown_topics(library),
        *_long_tips(library),
        *_messages(library),
        *_coverage(library),
        *_unreachable_tips(library),
        *_rounds_covered(library, {problem.file for problem in read_problems}),
        *_buttons(library),
        *_long_messages(library),
        *_conversation(library),
        *_plan_placeholders(library),
    ]
    if editorial:
        problems += [
            *_near_duplicates(library),
            *_example_answers(library),
            *_preferred_terms(library, directory),
            *_spelling(library, directory),
        ]
    return library, problems
