"""What a free-text message means, from the word lists in conversation.yaml: a command
said in words, small talk, a coaching FAQ, a role. Only whole messages match, after
casefolding and dropping punctuation and filler words, so an answer that happens to
contain "makasih" or "latihan" is never taken for one."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache, partial

from content.schema import Conversation, Level, Role, ShortReply

KEYS_KEPT = 32  # the messages in flight at once; each is asked about a few times
# A greeting opens a short message: "halo kak, pagi" is one, a long answer is not.
GREETING_MAX_WORDS = 4
# Marks that change how an emoji looks, not what it says: skin tones, the emoji style.
_EMOJI_MODIFIERS = {"Sk", "Mn", "Me", "Cf"}


def _tokens(text: str) -> Iterator[str]:
    word: list[str] = []
    last_emoji = ""
    for char in unicodedata.normalize("NFC", text.casefold()):
        if char.isalnum() or (char == "+" and word):  # "3+ tahun" is not "3 tahun"
            word.append(char)
            last_emoji = ""
            continue
        if word:
            yield "".join(word)
            word = []
        category = unicodedata.category(char)
        if category == "So" and char != last_emoji:
            # "🙏🙏🙏" says what "🙏" says.
            last_emoji = char
            yield char
        elif category not in _EMOJI_MODIFIERS and category != "So":
            last_emoji = ""
    if word:
        yield "".join(word)


def phrase_key(text: str, fillers: Iterable[str] = ()) -> str:
    """The form a message and a listed phrase are compared in."""
    dropped = set(fillers)
    tokens = [token for token in _tokens(text) if token not in dropped]
    words = [token for token in tokens if not is_emoji_only(token)]
    # Emoji next to words decorate them ("makasih 🙏"); on their own they are the message.
    return " ".join(words or tokens)


def is_emoji_only(key: str) -> bool:
    return bool(key) and all(unicodedata.category(char) == "So" for char in key.replace(" ", ""))


class PhraseBook:
    def __init__(self, conversation: Conversation) -> None:
        self._fillers = frozenset(conversation.fillers)
        # The router asks about one message several times (a command? small talk? a
        # greeting?): it is read once.
        self._key = lru_cache(maxsize=KEYS_KEPT)(partial(phrase_key, fillers=self._fillers))
        self._greetings = {self.key(phrase) for phrase in conversation.greetings}
        self._roles: dict[str, Role] = {}
        for role, phrases in conversation.roles.items():
            for phrase in (role, *phrases):
                self._roles[self.key(phrase)] = role
        self._levels: dict[str, Level] = {}
        for level, phrases in conversation.levels.items():
            for phrase in (level, *phrases):
                self._levels[self.key(phrase)] = level
        self._commands = {
            self.key(phrase): command
            for command, phrases in conversation.commands.items()
            for phrase in phrases
        }
        self._replies = {
            self.key(phrase): reply for reply in conversation.replies for phrase in reply.phrases
        }
        by_id = {reply.id: reply for reply in conversation.replies}
        self._emoji_reply = by_id.get(conversation.emoji_reply or "")
        self._hints = [
            (command, frozenset(self.key(word) for word in words))
            for command, words in conversation.hints.items()
        ]

    def key(self, text: str) -> str:
        return self._key(text)

    def role(self, text: str) -> Role | None:
        return self._roles.get(self.key(text))

    def level(self, text: str) -> Level | None:
        return self._levels.get(self.key(text))

    def command(self, text: str) -> str | None:
        """The command line ("mode user") a sentence means, if it means one."""
        return self._commands.get(self.key(text))

    def reply(self, text: str) -> ShortReply | None:
        key = self.key(text)
        found = self._replies.get(key)
        if found is None and is_emoji_only(key):
            return self._emoji_reply
        return found

    def is_greeting(self, text: str) -> bool:
        words = self.key(text).split()
        if not words or len(words) > GREETING_MAX_WORDS:
            return False
        return any(" ".join(words[:n]) in self._greetings for n in range(len(words), 0, -1))

    def after_hint(self, text: str, command: str) -> str | None:
        """What follows the first of a command's hint words in the message: "aku ada
        interview besok jam 10" -> "besok jam 10"."""
        cues = next((cues for name, cues in self._hints if name == command), frozenset())
        words = self.key(text).split()
        at = next((n for n, word in enumerate(words) if word in cues), None)
        return None if at is None else " ".join(words[at + 1 :])

    def hint(self, text: str) -> str | None:
        """A command the message's words point at ("jam" -> "pengingat"), for the answer
        to a message the bot did not follow."""
        words = set(self.key(text).split())
        return next((command for command, cues in self._hints if words & cues), None)
