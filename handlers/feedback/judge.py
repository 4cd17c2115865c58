"""What a recruiter hears in an answer: the parts its question type calls for, proof,
the candidate's own role, and the warning signs (negative talk, a generic or rambling
answer, an answer about something else). Gamed answers earn nothing: cues count only in
real clauses, and copied, repeated or listed text is set aside before anything is
counted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache

from content.schema import TYPE_PARTS, FeedbackCues, Part, Question
from handlers.feedback.evidence import facts
from handlers.feedback.reading import (
    Clause,
    Reading,
    content_roots,
    found,
    has,
    is_content,
    phrase_pattern,
    read,
    root,
    root_forms,
    spans,
    words_outside,
)
from handlers.feedback.vocabulary import Domain

MAX_EVIDENCE_EXAMPLES = 3
# Two clauses this alike are the same sentence said twice.
REPEAT_SIMILARITY = 0.85
# A clause sharing this much of its wording with the question or its outline is copied.
COPY_SHARE = 0.5
# A clause whose word roots come this much from one outline point rewords that point.
REWORDED_SHARE, MIN_REWORDED_ROOTS = 0.75, 4
# "a, b, c, d": three or more items of at most two words each is a list, not a sentence.
LIST_MIN_ITEMS, LIST_ITEM_WORDS = 3, 2
# A share of the answer that is copied, repeated or listed above this makes it gamed.
GAMED_SHARE = 0.4
# Off topic: the answer shares fewer than this many word roots with the question...
MIN_QUESTION_ROOTS = 2
# ...and fewer than this many with working life (for the broad story questions).
MIN_WORK_ROOTS = 3
RAMBLE_MEAN_WORDS = 30
# An answer with none of its question's keywords and this many of another question's
# answers that other question.
OTHER_QUESTION_HITS = 3
# A motivation clause names something specific with this many words of its own.
SPECIFIC_WORDS = 3
# "X itu ..." defines X when "itu" comes this early in the clause.
DEFINITION_REACH = 4
# What a habit can't supply: it happened no particular time, so it has no scene and no end.
STORY_ONLY: frozenset[Part] = frozenset({"situation", "task", "result"})
# A sentence this short ("Pernah.", "Jadi gini,") opens the next one.
OPENER_WORDS = 2
# Each part of the structure needs this many words of the candidate's own to count fully.
WORDS_PER_PART = 3
# A clause this long may hold two STAR parts ("saat saya yang bertanggung jawab piket").
TWO_PART_CLAUSE_WORDS = 5

# Points per question type; each row adds up to 100.
WEIGHTS: dict[str, dict[str, int]] = {
    "behavioural": {"parts": 45, "evidence": 15, "topic": 15, "substance": 15, "role": 10},
    "case": {"parts": 45, "evidence": 5, "topic": 25, "substance": 15, "role": 10},
    "concept": {"parts": 60, "evidence": 0, "topic": 20, "substance": 20, "role": 0},
    "motivation": {"parts": 45, "evidence": 10, "topic": 20, "substance": 15, "role": 10},
    "logistics": {"parts": 70, "evidence": 0, "topic": 10, "substance": 20, "role": 0},
}
# The share of the keyword, length and role points an answer with no structure keeps.
SUPPORT_FLOOR = 0.25
# An outline point counts as covered when this share of its words is in the answer; at
# most this many uncovered points are shown.
OUTLINE_COVERED_SHARE, MAX_OUTLINE_MISSING = 0.25, 2
# Proof is something to ask for only where it carries this many points.
EVIDENCE_EXPECTED_POINTS = 10
NEGATIVE_PENALTY = 20
GENERIC_PENALTY = 10
GENERIC_STORY_FACTOR = 0.5
# A story this many times the shortest answer is full-size: room enough for a detail.
TEMPLATE_SIZE = 2
# The question types whose answers need a detail of the candidate's own to be believed.
STORY_TYPES = ("behavioural", "case")
RAMBLING_PENALTY = 8
TEAM_ONLY_PENALTY = 5
FILLER_PENALTY_EACH, FILLER_PENALTY_MAX = 2, 8
# The most a gamed or off-topic answer can score: below any genuine attempt.
GAMED_CAP = 5
# A keyword-covered share of this counts as full topic points: nobody says them all.
KEYWORD_SHARE_FOR_FULL = 0.4


@dataclass(frozen=True)
class FeedbackReport:
    mode: str
    question_type: str
    words: int
    seconds: int
    length: str  # "short" | "ok" | "long"
    speaking_seconds: tuple[int, int]
    parts_expected: tuple[Part, ...]
    parts_present: tuple[Part, ...]
    evidence: tuple[str, ...]
    evidence_expected: bool
    own_actions: int
    team_actions: int
    fillers: dict[str, int]
    negative: str  # the sentence that talks against a former employer, or ""
    generic: bool
    rambling: bool
    rubric: str | None
    rubric_present: tuple[str, ...]
    rubric_missing: tuple[str, ...]
    keywords_covered: tuple[str, ...]
    keyword_total: int
    outline_missing: tuple[str, ...]
    off_topic: bool
    copied: bool
    repeated: bool
    listed: bool
    # Every part, yet nothing anyone could check and a result that measures nothing.
    template: bool
    score: int
    # Clauses the advice can quote, by what they show.
    quotes: dict[str, str] = field(default_factory=dict)

    @property
    def parts_missing(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts_expected if p not in self.parts_present)

    @property
    def gamed(self) -> bool:
        return self.copied or self.repeated or self.listed or self.template

    @property
    def summary(self) -> str:
        """One line for the practice history."""
        return (
            f"skor {self.score}; {self.question_type}; {self.words} kata; "
            f"bagian {len(self.parts_present)}/{len(self.parts_expected)}; "
            f"bukti {'ya' if self.evidence else 'tidak'}"
        )


@dataclass
class _Clauses:
    """The clauses that count, and why the others don't."""

    real: list[Clause]
    copied: int = 0
    reworded: int = 0
    repeated: int = 0
    listed: int = 0


def _is_list(clause: Clause, raw_sentence: str) -> bool:
    items = [item.split() for item in raw_sentence.replace(";", ",").split(",") if item.strip()]
    return len(items) >= LIST_MIN_ITEMS and all(len(i) <= LIST_ITEM_WORDS for i in items)


@cache
def _question_roots(question: Question, function_words: frozenset[str]) -> frozenset[str]:
    words = _question_text(question).replace("|", " ").split()
    return frozenset(content_roots((w.strip(',.?!:;()"') for w in words), function_words))


@cache
def _question_text(question: Question) -> str:
    return " ".join((question.text, *question.outline, *question.keywords)).lower()


def _pasted(clause: Clause, question: Question) -> bool:
    """The question's or the outline's own wording, pasted."""
    words = [w for w in clause.words if len(w) > 2]
    if len(words) < 3:
        return False
    source = _question_text(question)
    trigrams = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    return sum(1 for gram in trigrams if gram in source) / len(trigrams) >= COPY_SHARE


def _reworded(clause: Clause, question: Question, function_words: frozenset[str]) -> bool:
    """An outline point said in other words. One such sentence is knowing the answer; an
    answer made of them is the outline handed back."""
    content = [w for w in clause.words if is_content(w, function_words)]
    # A right definition says what the outline says; only a story or a plan can't.
    if question.type == "concept" or len(content) < MIN_REWORDED_ROOTS:
        return False
    for point in _outline_roots(question, function_words):
        shared = sum(1 for word in content if point.intersection(root_forms(word)))
        if shared / len(content) >= REWORDED_SHARE:
            return True
    return False


@cache
def _outline_roots(
    question: Question, function_words: frozenset[str]
) -> tuple[frozenset[str], ...]:
    return tuple(
        frozenset(content_roots(point.lower().replace(",", " ").split(), function_words))
        for point in question.outline
    )


def _sort_clauses(reading: Reading, question: Question, cues: FeedbackCues) -> _Clauses:
    result = _Clauses(real=[])
    seen: list[str] = []
    function_words = frozenset(cues.reading.function_words)
    for sentence in reading.sentences:
        raw_sentence = " ".join(" ".join(c.raw) for c in sentence)
        for clause in sentence:
            size = len(clause.words)
            if _is_list(clause, raw_sentence) or (clause.bullet and size == 1):
                result.listed += size
                continue
            if _pasted(clause, question):
                result.copied += size
                continue
            if _reworded(clause, question, function_words):
                result.reworded += size
            key = " ".join(sorted(content_roots(clause.words, function_words)))
            if key and any(_alike(key, old) for old in seen):
                result.repeated += size
                continue
            seen.append(key)
            result.real.append(clause)
    return result


def _alike(a: str, b: str) -> bool:
    return SequenceMatcher(None, a, b).ratio() >= REPEAT_SIMILARITY


_CUE_CACHE: dict[tuple[str, int], tuple[FeedbackCues, tuple[str, ...]]] = {}


def _all_cues(question: Question, cues: FeedbackCues) -> tuple[str, ...]:
    """Every phrase this question's checks look for (the cue lists are kept with the
    result, so the key's id is not reused)."""
    key = (question.id, id(cues))
    cached = _CUE_CACHE.get(key)
    if cached is not None and cached[0] is cues:
        return cached[1]
    phrases = _collect_cues(question, cues)
    _CUE_CACHE[key] = (cues, phrases)
    return phrases


def _collect_cues(question: Question, cues: FeedbackCues) -> tuple[str, ...]:
    phrases = [phrase for part in TYPE_PARTS[question.type] for phrase in cues.parts[part]]
    if question.rubric is not None:
        phrases += [phrase for item in cues.rubrics[question.rubric].values() for phrase in item]
    phrases += [alt for alts in question.keyword_alternatives() for alt in alts]
    return tuple(phrases)


def _has_content(clause: Clause, cue_phrases: tuple[str, ...], cues: FeedbackCues) -> bool:
    """A real clause says something beyond cue words, keywords and function words."""
    rest = words_outside(clause.text, spans(clause.text, cue_phrases))
    empty = {*cues.reading.function_words, *cues.reading.empty_words, *cues.fillers}
    return any(len(word) >= 3 and word.isalpha() and word not in empty for word in rest)


def _actor(clause: Clause, cues: FeedbackCues) -> str | None:
    """ "own" when the candidate acts in the clause ("saya/sy/aku + verb"), "team" for
    "kami/kita + verb"."""
    rules = cues.reading
    words = clause.words
    for i, word in enumerate(words):
        who = "own" if word in rules.first_person else "team" if word in rules.team else None
        # After a noun the pronoun is a possessive: "atasan saya memutuskan" is the boss.
        if who is None or (i and words[i - 1] in rules.possessed):
            continue
        j = i + 1
        while j < len(words) and words[j] in rules.action_lead_ins:
            j += 1
        if j < len(words) and words[j] not in rules.not_actions and words[j].isalpha():
            return who
    return None


def _own_words(clause: Clause, question: Question, cues: FeedbackCues) -> set[str]:
    """The clause's content word roots that are neither cue, empty word nor the question's."""
    empty = frozenset({*cues.reading.function_words, *cues.reading.empty_words})
    text = clause.text
    rest = words_outside(text, spans(text, _all_cues(question, cues)))
    function_words = frozenset(cues.reading.function_words)
    return content_roots(rest, empty) - _question_roots(question, function_words)


def _defines(clause: Clause) -> bool:
    """ "severity itu seberapa parah ...": a term, then "itu", then what it is."""
    words = clause.words
    return any(word == "itu" for word in words[1:DEFINITION_REACH]) and len(words) >= 5


def _owns(clause: Clause, cues: FeedbackCues) -> bool:
    """ "saya yang tes", "sy yg pegang": the candidate was the one responsible."""
    words, rules = clause.words, cues.reading
    return any(
        word in rules.first_person
        and (i == 0 or words[i - 1] in rules.function_words)
        and i + 1 < len(words)
        and words[i + 1] == "yang"
        for i, word in enumerate(words)
    )


def _mentions(clause: Clause, phrases: tuple[str, ...], cues: FeedbackCues) -> bool:
    """A cue, negated or not."""
    return has(clause.text, phrases)


def _says(clause: Clause, phrases: tuple[str, ...], cues: FeedbackCues) -> bool:
    """A cue that is not negated: "belum pernah" opens no story."""
    text = clause.text
    for match in phrase_pattern(phrases).finditer(text):
        # "tidak pernah berhenti belajar": the negation may sit a word before.
        before = text[: match.start()].split()[-2:]
        if not set(before) & set(cues.reading.negations):
            return True
    return False


def _habit(clause: Clause, cues: FeedbackCues) -> bool:
    """The candidate describing what they usually do ("biasanya saya ...", "sy selalu
    ..."), not what happened once. Someone else's habit ("klien yang sering ...") is
    still part of the story."""
    words = clause.words
    for i, word in enumerate(words):
        possessive = i > 0 and words[i - 1] in cues.reading.possessed  # "klien saya"
        if word in cues.reading.first_person and not possessive:
            near = " " + " ".join(words[max(0, i - 2) : i + 3]) + " "
            if has(near, cues.reading.habitual):
                return True
    return False


def _star_chain(
    candidates: list[tuple[set[Part], int]], order: tuple[Part, ...], judged: tuple[Part, ...]
) -> set[Part]:
    """The most STAR parts that can be read in story order: one part per clause, or two
    from a clause long enough to hold both. Between equally long chains, the one with
    more of the parts this question judges wins, then the one earliest in story order."""
    rank = {part: i for i, part in enumerate(order)}
    best: set[tuple[int, frozenset[Part]]] = {(-1, frozenset())}
    for options, size in candidates:
        picks: list[tuple[Part, ...]] = [(part,) for part in options]
        if size >= TWO_PART_CLAUSE_WORDS:
            picks += [(a, b) for a in options for b in options if rank[a] < rank[b]]
        grown = set(best)
        for last, covered in best:
            for pick in picks:
                if rank[pick[0]] >= last:
                    grown.add((rank[pick[-1]], covered | set(pick)))
        best = grown
    chains: list[frozenset[Part]] = sorted(
        {covered for _, covered in best}, key=lambda c: sorted(rank[p] for p in c)
    )
    widest = max(chains, key=lambda c: (len(c), len(c.intersection(judged))))
    return set(widest)


def _parts(
    real: list[Clause], question: Question, cues: FeedbackCues, cue_phrases: tuple[str, ...]
) -> tuple[set[Part], dict[str, str], int, int]:
    type_parts = TYPE_PARTS[question.type]
    candidates: list[tuple[set[Part], int]] = []
    quotes: dict[str, str] = {}
    own = team = 0
    # A cue in a clause with nothing else in it ("Hasilnya,", "My task waktu itu:") belongs
    # to the next clause of the same sentence; a sentence of a word or two ("Pernah.")
    # opens the next sentence.
    carried: set[Part] = set()
    carried_from = last_sentence = -1
    last_was_habit = False
    acted = False
    for clause in real:
        if clause.sentence != carried_from:
            carried = set()
        # "bukan tugas saya" still says where the candidate stood; other negated cues
        # ("belum pernah") say the opposite of the part.
        matched: set[Part] = {
            part
            for part in type_parts
            if (_mentions if part == "task" else _says)(clause, cues.parts[part], cues)
        }
        if not _has_content(clause, cue_phrases, cues):
            if clause.ends_sentence and candidates and last_sentence == clause.sentence:
                # "... termasuk saya, akhirnya." closes the clause before it.
                candidates[-1][0].update(matched - (STORY_ONLY if last_was_habit else set()))
            carried |= matched
            short_sentence = clause.ends_sentence and len(clause.words) <= OPENER_WORDS
            carried_from = clause.sentence + 1 if short_sentence else clause.sentence
            continue
        options, carried = matched | carried, set()
        last_sentence = clause.sentence
        actor = _actor(clause, cues)
        own += actor == "own"
        team += actor == "team"
        if actor == "team":
            quotes.setdefault("team", clause.quote())
        if question.type == "behavioural":
            if _owns(clause, cues):
                options.add("task")
            last_was_habit = _habit(clause, cues)
            if last_was_habit:
                options -= STORY_ONLY
            if actor is not None:
                options.add("action")
            # A measured change after the candidate acted is how the story ended.
            elif acted and facts(clause, cues.numbers):
                options.add("result")
            acted = acted or actor is not None
        # In a case, what the candidate does that is neither checking, digging nor
        # preventing is the response itself.
        if question.type == "case" and actor is not None and not options:
            options.add("contain")
        if question.type == "concept" and _defines(clause):
            options.add("definition")
        if question.type == "motivation":
            # "Perusahaan ini berkembang pesat" fits any company; the part needs a detail
            # of this one: a product or stack name, or words the question didn't give.
            if has(clause.text, cues.specifics):
                options.add("specific")
            elif "specific" in options and len(_own_words(clause, question, cues)) < SPECIFIC_WORDS:
                options.discard("specific")
        candidates.append((options, len(clause.words)))
        for part in options:
            quotes.setdefault(part, clause.quote())
    if question.type == "behavioural":
        present = _star_chain(candidates, type_parts, question.judged_parts)
    else:
        present = {part for options, _ in candidates for part in options}
    return present, quotes, own, team


def _negative(reading: Reading, cues: FeedbackCues) -> str:
    rules = cues.negativity
    sentences = [" ".join(c.text for c in s) for s in reading.sentences]
    for i, text in enumerate(sentences):
        quote = reading.sentences[i][0].quote()
        if has(text, rules.phrases):
            return quote
        if has(text, rules.negative_words):
            window = sentences[max(0, i - 1) : i + 2]
            if any(has(t, rules.employer_words) for t in window):
                return quote
    return ""


def _keyword_hits(text: str, question: Question) -> int:
    return sum(1 for alternatives in question.keyword_alternatives() if has(text, alternatives))


def _off_topic(reading: Reading, question: Question, cues: FeedbackCues, domain: Domain) -> bool:
    function_words = frozenset(cues.reading.function_words)
    answer = content_roots(reading.text.split(), function_words)
    if domain.roots:
        # Judged on what the answer says beyond the cue words: "Tugas saya ... Hasilnya"
        # around a cat on Mars is still about the cat.
        text = reading.text
        empty = function_words | frozenset(cues.reading.empty_words)
        said = content_roots(words_outside(text, spans(text, _all_cues(question, cues))), empty)
        outside = len(said - domain.roots)
        if outside >= cues.off_domain.min_words and outside / len(said) > cues.off_domain.share:
            return True
    # The answer to another question: none of this one's keywords, several of another's.
    if _keyword_hits(reading.text, question) == 0 and any(
        _keyword_hits(reading.text, other) >= OTHER_QUESTION_HITS
        for other in domain.questions
        if other.id != question.id
    ):
        return True
    # Nothing in common with the question at all.
    if len(answer & _question_vocabulary(question, function_words)) >= MIN_QUESTION_ROOTS:
        return False
    if question.type == "logistics":
        # "15 jt", "dua minggu lagi": a number is what a salary or start date question asks.
        return not any(facts(clause, cues.numbers) for clause in reading.clauses)
    if question.type in ("behavioural", "motivation"):
        work = {root(w) for w in cues.work_words}
        return len(answer & work) < MIN_WORK_ROOTS
    return True


@cache
def _question_vocabulary(question: Question, function_words: frozenset[str]) -> frozenset[str]:
    """Every word the question's content uses, its example answer included."""
    source = " ".join(
        (
            question.text,
            question.looking_for,
            *question.outline,
            *question.keywords,
            question.example_answer or "",
            *question.follow_ups,
        )
    ).lower()
    return frozenset(content_roots(source.replace("|", " ").split(), function_words))


def _concrete(reading: Reading, question: Question, cues: FeedbackCues) -> bool:
    """Any one detail of the candidate's own that pins the story down: a number, a name,
    a tool or a product that the question did not already give."""
    given_words = _question_words(question)
    given = _question_text(question)
    for sentence in reading.sentences:
        raw = [word for clause in sentence for word in clause.raw]
        words = [word for clause in sentence for word in clause.words]
        details = [w for w in words if any(c.isdigit() for c in w) or w in cues.numbers.words]
        details += [
            w.strip(",.:;()").lower()
            for w in raw[1:]
            if w[:1].isupper() and w.strip(",.:;()").lower() not in cues.not_details
        ]
        if any(detail and detail not in given_words for detail in details):
            return True
        # Stack and product names may be several words ("power bi") and typed lowercase.
        named = found(" ".join(words), cues.specifics)
        if any(not has(given, (name,)) for name in named):
            return True
    return False


@cache
def _question_words(question: Question) -> frozenset[str]:
    return frozenset(
        w.strip(',.?!:;()"') for w in _question_text(question).replace("|", " ").split()
    )


def _rambling(reading: Reading, cues: FeedbackCues) -> bool:
    lengths = [sum(len(c.words) for c in s) for s in reading.sentences]
    if not lengths:
        return False
    longest = max(lengths)
    mean = sum(lengths) / len(lengths)
    return longest > cues.long_sentence_words and mean > RAMBLE_MEAN_WORDS


def _outline_missing(real: list[Clause], question: Question, cues: FeedbackCues) -> tuple[str, ...]:
    function_words = frozenset(cues.reading.function_words)
    said = content_roots(" ".join(c.text for c in real).split(), function_words)
    missing = []
    for point in question.outline:
        roots = content_roots(point.lower().split(), function_words)
        if roots and len(roots & said) / len(roots) < OUTLINE_COVERED_SHARE:
            missing.append(point)
    return tuple(missing[:MAX_OUTLINE_MISSING])


def analyze(
    answer: str,
    question: Question,
    mode: str,
    cues: FeedbackCues,
    domain: Domain | None = None,
) -> FeedbackReport:
    """Judges one answer. `domain` (vocabulary.py) lets it notice an answer about
    something else: words from outside working life, or another question's answer."""
    reading = read(answer, cues.reading)
    words = reading.word_count
    seconds = round(words / cues.words_per_minute * 60)
    low, high = cues.speaking_seconds["hr" if mode == "hr" else "user"]
    length = (
        "short" if words < cues.min_words[question.type] else "long" if seconds > high else "ok"
    )

    sorted_clauses = _sort_clauses(reading, question, cues)
    real = sorted_clauses.real
    cue_phrases = _all_cues(question, cues)
    present, quotes, own, team = _parts(real, question, cues, cue_phrases)
    expected = question.judged_parts
    present_parts = tuple(p for p in expected if p in present)

    # Each clause's content and facts, read once: a fact counts as proof only in a clause
    # that says something.
    read_clauses = [
        (clause, _has_content(clause, cue_phrases, cues), facts(clause, cues.numbers))
        for clause in real
    ]
    substantive = [clause for clause, content, stated in read_clauses if content or stated]
    evidence = [fact for _, content, stated in read_clauses if content for fact in stated]
    evidence_found = tuple(dict.fromkeys(evidence))[:MAX_EVIDENCE_EXAMPLES]

    # Keywords count where they sit in a sentence that says something.
    real_text = " ".join(c.text for c in substantive)
    keywords = zip(question.keywords, question.keyword_alternatives(), strict=True)
    covered = [keyword.split("|")[0] for keyword, alts in keywords if has(real_text, alts)]
    rubric_present: list[str] = []
    rubric_missing: list[str] = []
    if question.rubric is not None and mode == "user":
        for item, phrases in cues.rubrics[question.rubric].items():
            (rubric_present if has(real_text, phrases) else rubric_missing).append(item)

    fillers = _whole_word_counts(reading.text, cues.fillers)
    negative = _negative(reading, cues)
    off_topic = words >= cues.min_words[question.type] and _off_topic(
        reading, question, cues, domain or Domain()
    )
    rambling = _rambling(reading, cues)
    generic = (
        question.type == "motivation" and "specific" in expected and "specific" not in present
    ) or (question.type in STORY_TYPES and not _concrete(reading, question, cues))

    total = max(1, words)
    copied = (sorted_clauses.copied + sorted_clauses.reworded) / total > GAMED_SHARE
    repeated = sorted_clauses.repeated / total > GAMED_SHARE or sorted_clauses.repeated >= 2 * len(
        substantive
    )
    listed = sorted_clauses.listed / total > GAMED_SHARE

    for clause, _, stated in read_clauses:
        if has(clause.text, cues.vague_claims) and not stated:
            quotes.setdefault("vague", clause.quote())
    if real:
        quotes.setdefault("first", real[0].quote())
        quotes.setdefault("last", real[-1].quote())
        longest = max(reading.sentences, key=lambda s: sum(len(c.words) for c in s))
        quotes.setdefault("longest", longest[0].quote())
    if negative:
        quotes["negative"] = negative

    # Structure earns points only with something said in it: new words of the candidate's
    # own, beyond the question's wording, its outline, its keywords and the cue words.
    function_words = frozenset(cues.reading.function_words)
    empty = function_words | frozenset(cues.reading.empty_words)
    own_words = content_roots(
        words_outside(real_text, spans(real_text, cue_phrases)), empty
    ) - _question_roots(question, function_words)
    substance_for_parts = min(1.0, len(own_words) / max(1, WORDS_PER_PART * len(expected)))
    weights = WEIGHTS[question.type]
    need = max(1, math.ceil(len(question.keywords) * KEYWORD_SHARE_FOR_FULL))
    topic = min(1.0, len(covered) / need)
    if question.rubric is not None and mode == "user":
        topic = (topic + len(rubric_present) / max(1, len(cues.rubrics[question.rubric]))) / 2
    substance = 0.7 if length == "long" else min(1.0, words / cues.min_words[question.type])
    role = 1.0 if own else 0.5 if team else 0.0
    if question.type == "motivation":
        role = 1.0 if own or has(real_text, cues.reading.first_person) else 0.0
    # Everything the structure earns needs words of the candidate's own behind it.
    structure = len(present_parts) / len(expected)
    # The right words, the length and the "saya" count for more inside the right structure.
    supporting = (
        weights["topic"] * topic + weights["substance"] * substance + weights["role"] * role
    )
    score = substance_for_parts * (
        weights["parts"] * structure
        + weights["evidence"] * (1.0 if evidence_found else 0.0)
        + supporting * (SUPPORT_FLOOR + (1 - SUPPORT_FLOOR) * structure)
    )
    if not substantive:
        score = 0.0
    score -= NEGATIVE_PENALTY if negative else 0
    if generic:
        # A story without one name, number or tool could have happened anywhere.
        score = score * GENERIC_STORY_FACTOR if question.type in STORY_TYPES else score
        score -= GENERIC_PENALTY if question.type == "motivation" else 0
    score -= RAMBLING_PENALTY if rambling else 0
    score -= TEAM_ONLY_PENALTY if team and not own and question.type == "behavioural" else 0
    score -= min(FILLER_PENALTY_MAX, FILLER_PENALTY_EACH * sum(fillers.values()))
    # A full-size story that ticks every part, names nothing anyone could check and ends
    # in "hasilnya memuaskan" is a rehearsed template, not an experience. A short one is
    # only thin, and the advice says so.
    template = (
        generic
        and words >= TEMPLATE_SIZE * cues.min_words[question.type]
        and question.type in STORY_TYPES
        and present_parts == expected
        and not evidence_found
        and "vague" in quotes
    )
    if off_topic or copied or repeated or listed or template:
        score = min(score, GAMED_CAP)

    return FeedbackReport(
        mode=mode,
        question_type=question.type,
        words=words,
        seconds=seconds,
        length=length,
        speaking_seconds=(low, high),
        parts_expected=expected,
        parts_present=present_parts,
        evidence=evidence_found,
        evidence_expected=weights["evidence"] >= EVIDENCE_EXPECTED_POINTS,
        own_actions=own,
        team_actions=team,
        fillers=fillers,
        negative=negative,
        generic=generic,
        rambling=rambling,
        rubric=question.rubric if mode == "user" else None,
        rubric_present=tuple(rubric_present),
        rubric_missing=tuple(rubric_missing),
        keywords_covered=tuple(covered),
        keyword_total=len(question.keywords),
        outline_missing=_outline_missing(real, question, cues),
        off_topic=off_topic,
        copied=copied,
        repeated=repeated,
        listed=listed,
        template=template,
        score=max(0, min(100, round(score))),
        quotes=quotes,
    )


def _whole_word_counts(text: str, phrases: tuple[str, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for match in phrase_pattern(phrases, whole_word=True).finditer(text):
        counts[match.group(0)] = counts.get(match.group(0), 0) + 1
    return counts
