"""Turns handler `Reply` objects into WhatsApp Cloud API message objects.

Each dict returned by `render` is the type-specific part of a send body (``type`` plus
``text`` or ``interactive``); the sender adds ``messaging_product`` and the recipient.

Formatting: handlers produce plain text and WhatsApp has no markup to escape into. Its own
formatting marks (``*bold*``, ``_italic_``, ``~strike~``, three backticks) have no escape
either, so text that a user typed and the coach echoes is sent exactly as it is: nothing is
HTML-escaped and nothing is rewritten.

Lengths are counted in UTF-16 code units, as `content.lint` does for message text. That is
never less than the number of characters, so a message within these limits is within
WhatsApp's limits however its servers count (an emoji may count as two here).

WhatsApp cannot edit a sent message, so `Reply.edit` is ignored: every reply is sent anew.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from handlers.types import Button, Reply

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # text message body
MAX_BUTTON_BODY = 1024  # body of an interactive "button" message
MAX_BUTTONS = 3  # reply buttons in one "button" message
MAX_LIST_ROWS = 10  # rows in all the sections of a "list" message
MAX_BUTTON_TITLE = 20  # reply button title
MAX_ROW_TITLE = 24  # list row title
MAX_ROW_DESCRIPTION = 72  # list row description
MAX_LIST_BUTTON = 20  # the button that opens a list
# A list's body may be as long as a text message.
MAX_LIST_BODY = MAX_TEXT

# Fallbacks only: user-facing wording belongs to the content library, so callers pass
# `messages.render(...)` for both. These keep the renderer usable in tests and tools.
DEFAULT_PROMPT = "Pilih salah satu:"
DEFAULT_LIST_BUTTON = "Pilih"

ELLIPSIS = "…"
PARAGRAPH_JOIN = "\n\n"

# Boundaries to cut long text at, coarsest first. Each separator swallows the whitespace
# around it, so a piece starts with visible text and a cut never leaves a blank line behind.
_BOUNDARIES = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # a blank line: between paragraphs
    re.compile(r"\n\s*"),  # a line break
    re.compile(r"\s+"),  # any other whitespace: between words
)
_PARAGRAPH = _BOUNDARIES[0]


def measure(text: str) -> int:
    """Length in UTF-16 code units: at least the character count, see the module docstring."""
    # "surrogatepass": a lone surrogate can arrive through JSON ("\\ud800") and must not
    # crash the send; it counts as one unit.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _pieces(text: str, boundary: re.Pattern[str]) -> list[str]:
    """Pieces that join back to `text`, each keeping the separator that follows it."""
    pieces: list[str] = []
    start = 0
    for match in boundary.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _units(char: str) -> int:
    """`measure` of one character, without encoding it."""
    return 2 if ord(char) > 0xFFFF else 1


def _hard_cut(word: str, limit: int) -> list[str]:
    """A single word longer than `limit`, cut between characters: the only way left."""
    chunks: list[str] = []
    start = 0
    used = 0
    # Counted a character at a time: re-measuring the growing chunk would be quadratic.
    for index, char in enumerate(word):
        if used + _units(char) > limit:
            chunks.append(word[start:index])
            start, used = index, 0
        used += _units(char)
    chunks.append(word[start:])
    return chunks


def _split(text: str, limit: int, level: int) -> list[str]:
    """`text` is stripped and non-empty; `level` indexes the boundaries still allowed."""
    if measure(text) <= limit:
        return [text]
    if level == len(_BOUNDARIES):
        return _hard_cut(text, limit)
    pieces = _pieces(text, _BOUNDARIES[level])
    if len(pieces) == 1:
        return _split(text, limit, level + 1)
    chunks: list[str] = []
    current = ""
    used = 0  # measure(current), kept as a sum so packing stays linear
    for piece in pieces:
        # The trailing separator does not count: it is stripped if the chunk ends here.
        size = measure(piece)
        if used + measure(piece.rstrip()) <= limit:
            current += piece
            used += size
            continue
        if current.strip():
            chunks.append(current.strip())
        current, used = "", 0
        if measure(piece.strip()) > limit:
            # Only this piece is cut at finer boundaries; the rest keeps the coarse ones.
            chunks.extend(_split(piece.strip(), limit, level + 1))
        else:
            current, used = piece, size
    if current.strip():
        chunks.append(current.strip())
    return chunks


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` units, cut at paragraph, then line, then word boundaries,
    and inside a word only when that word alone is longer than `limit`.

    Chunks are stripped; whitespace-only text gives no chunks (WhatsApp refuses an empty
    body). Every non-whitespace character is kept, in order.
    """
    if limit < 2:
        # A character outside the BMP takes two units and could never fit.
        raise ValueError(f"limit must be at least 2, got {limit}")
    stripped = text.strip()
    return _split(stripped, limit, 0) if stripped else []


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` units with an ellipsis, at a word boundary when one is near."""
    if measure(text) <= limit:
        return text
    room = limit - measure(ELLIPSIS)
    end = 0
    for char in text:
        room -= _units(char)
        if room < 0:
            break
        end += 1
    head = text[:end]
    if not text[len(head)].isspace():
        # `head` ends inside a word: go back to the last space, unless that would throw
        # away more than half of the room, where cutting the word keeps more meaning.
        space = head.rfind(" ")
        if space >= len(head) // 2:
            head = head[:space]
    return head.rstrip() + ELLIPSIS


def _unique_titles(labels: Sequence[str], limit: int) -> list[str]:
    """Titles within `limit`, made unique in order with " 2", " 3"… (WhatsApp rejects a
    message whose buttons or rows share a title)."""
    titles: list[str] = []
    used: set[str] = set()
    for position, label in enumerate(labels, start=1):
        # A title is one line; an empty one is refused, so the option's number stands in.
        base = " ".join(label.split()) or str(position)
        title = shorten(base, limit)
        number = 2
        while title in used:
            suffix = f" {number}"
            title = shorten(base, limit - measure(suffix)) + suffix
            number += 1
        used.add(title)
        titles.append(title)
    return titles


def _button_message(body: str, buttons: Sequence[Button]) -> dict[str, Any]:
    titles = _unique_titles([button.label for button in buttons], MAX_BUTTON_TITLE)
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button.payload, "title": title}}
                    for button, title in zip(buttons, titles, strict=True)
                ]
            },
        },
    }


def _list_message(body: str, buttons: Sequence[Button], list_button: str) -> dict[str, Any]:
    titles = _unique_titles([button.label for button in buttons], MAX_ROW_TITLE)
    rows: list[dict[str, str]] = []
    for button, title in zip(buttons, titles, strict=True):
        row = {"id": button.payload, "title": title}
        label = " ".join(button.label.split())
        if measure(label) > MAX_ROW_TITLE:
            # The title had to be cut: the description has room for the whole label.
            row["description"] = shorten(label, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": list_button, "sections": [{"rows": rows}]},
        },
    }


def _text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _text_messages(text: str) -> Iterator[dict[str, Any]]:
    for chunk in split_text(text):
        yield _text_message(chunk)


def _lay_out(text: str, body_limit: int, prompt: str) -> tuple[list[str], str]:
    """Text chunks to send before the interactive message, and that message's body."""
    text = text.strip()
    if not text:
        return [], prompt
    if measure(text) <= body_limit:
        return [], text
    chunks = split_text(text)
    last = chunks[-1]
    if measure(last) <= body_limit:
        return chunks[:-1], last
    separators = list(_PARAGRAPH.finditer(last))
    if separators:
        # `last` is stripped, so its last blank line has text on both sides.
        cut = separators[-1]
        paragraph = last[cut.end() :]
        if measure(paragraph) <= body_limit:
            return [*chunks[:-1], last[: cut.start()]], paragraph
    # No short ending to hang the buttons on: they go under the prompt instead.
    return chunks, prompt


def _with_buttons(
    text: str, buttons: tuple[Button, ...], prompt: str, list_button: str
) -> Iterator[dict[str, Any]]:
    if len(buttons) > MAX_LIST_ROWS:
        # Counts only: the labels and text may carry what the user typed.
        log.warning(
            "WhatsApp lists hold %d options; dropping %d of %d buttons",
            MAX_LIST_ROWS,
            len(buttons) - MAX_LIST_ROWS,
            len(buttons),
        )
        buttons = buttons[:MAX_LIST_ROWS]
    as_list = len(buttons) > MAX_BUTTONS
    before, body = _lay_out(text, MAX_LIST_BODY if as_list else MAX_BUTTON_BODY, prompt)
    for chunk in before:
        yield _text_message(chunk)
    if as_list:
        yield _list_message(body, buttons, list_button)
    else:
        yield _button_message(body, buttons)


def render(
    replies: Sequence[Reply],
    *,
    prompt: str = DEFAULT_PROMPT,
    list_button: str = DEFAULT_LIST_BUTTON,
) -> list[dict[str, Any]]:
    """WhatsApp message objects for the replies to one user message, in sending order.

    Consecutive replies without buttons are joined with a blank line while the result fits
    in one text message; a reply with buttons closes a message, its buttons going under the
    text just before them. Up to `MAX_BUTTONS` buttons make a "button" message, up to
    `MAX_LIST_ROWS` a "list" message; further buttons are dropped with a warning.

    `prompt` is the body for buttons that have no text short enough to sit on, and
    `list_button` opens a list. Both are user-facing, so the caller passes wording from the
    content library, e.g. ``messages.render("...")``; the defaults are fallbacks only.
    """
    if not prompt.strip() or measure(prompt) > MAX_BUTTON_BODY:
        raise ValueError(f"prompt must be 1 to {MAX_BUTTON_BODY} characters")
    if not list_button.strip() or measure(list_button) > MAX_LIST_BUTTON:
        raise ValueError(f"list_button must be 1 to {MAX_LIST_BUTTON} characters")
    messages: list[dict[str, Any]] = []
    pending = ""  # text waiting to be sent, joined from replies without buttons
    for reply in replies:
        text = reply.text.strip()
        joined = PARAGRAPH_JOIN.join(part for part in (pending, text) if part)
        if reply.buttons:
            messages.extend(_with_buttons(joined, reply.buttons, prompt, list_button))
            pending = ""
        elif measure(joined) <= MAX_TEXT or not pending:
            pending = joined
        else:
            messages.extend(_text_messages(pending))
            pending = text
    messages.extend(_text_messages(pending))
    return messages
