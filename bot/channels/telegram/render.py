"""Turns a `Reply` into what Telegram takes: escaped HTML chunks and an inline keyboard."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.types import Button, Reply

MAX_MESSAGE_CHARS = 4096
SHORT_LABEL = 6  # labels this short (WIB, 07.00) fit three or four to a row


SEPARATORS = ("\n\n", "\n", " ")


def _pieces(text: str, separator: str) -> list[str]:
    """Pieces that join back to the original text, each keeping its separator."""
    parts = text.split(separator)
    return [part + separator for part in parts[:-1]] + [parts[-1]]


def split_for_telegram(
    text: str, limit: int = MAX_MESSAGE_CHARS, separators: tuple[str, ...] = SEPARATORS
) -> list[str]:
    """Escaped chunks of at most `limit` characters, cut at paragraph, line or word
    boundaries where possible, and between characters when nothing else is left.
    Escaping happens before measuring, so entities such as `&amp;` are never cut in half."""
    escaped = html.escape(text, quote=False)
    if len(escaped) <= limit:
        return [escaped]
    usable = [separator for separator in separators if separator in text]
    # A piece too long for one message is split again with the finer separators only.
    pieces = _pieces(text, usable[0]) if usable else list(text)
    finer = tuple(usable[1:])
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        piece_escaped = html.escape(piece, quote=False)
        if len(piece_escaped) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(split_for_telegram(piece, limit, finer))
            continue
        if len(current) + len(piece_escaped) > limit:
            chunks.append(current)
            current = ""
        current += piece_escaped
    if current:
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    per_row = 4 if all(len(b.label) <= SHORT_LABEL for b in buttons) else 2
    rows = [
        [
            InlineKeyboardButton(text=b.label, callback_data=b.payload)
            for b in buttons[i : i + per_row]
        ]
        for i in range(0, len(buttons), per_row)
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """Message texts with the keyboard under the last one."""
    chunks = split_for_telegram(reply.text)
    markup = keyboard(reply.buttons)
    return [(chunk, markup if i == len(chunks) - 1 else None) for i, chunk in enumerate(chunks)]
