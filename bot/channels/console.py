"""The terminal chat: one user message per line, replies printed, buttons as numbered
options. Typing an option's number or its label taps it."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from handlers.parsing import simplify
from handlers.router import Coach
from handlers.types import Button, Inbound, Reply

CHANNEL = "console"
CHAT_ID = "local"
PROMPT = "kamu> "


def render(reply: Reply) -> str:
    lines = [reply.text]
    lines += [f"  {number}. {button.label}" for number, button in enumerate(reply.buttons, 1)]
    return "\n".join(lines)


# "yang kedua", "pilih 2", "nomor 2", "yang hr": the words around a choice.
CHOICE_WORDS = frozenset({"yang", "pilih", "nomor", "no", "opsi"})


def _words(text: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in simplify(text)).split()


def _chosen_button(text: str, buttons: tuple[Button, ...]) -> Button | None:
    """The option a typed line picks: its number, its label, or words of only one label
    ("yang hr" under "Interview HR, Jumat 10.00" and "Interview user, Senin 09.00")."""
    exact = next((b for b in buttons if simplify(b.label) == simplify(text)), None)
    if exact is not None:
        return exact
    words = [w for w in _words(text) if w not in CHOICE_WORDS]
    if len(words) == 1 and words[0].isdigit():
        number = int(words[0])
        return buttons[number - 1] if 1 <= number <= len(buttons) else None
    if not words:
        return None
    matching = [b for b in buttons if set(words) <= set(_words(b.label))]
    return matching[0] if len(matching) == 1 else None


class ConsoleChat:
    def __init__(self, coach: Coach, output: TextIO, chat_id: str, name: str) -> None:
        self._coach = coach
        self._output = output
        self._chat_id = chat_id
        self._name = name
        self._buttons: tuple[Button, ...] = ()

    async def send_line(self, line: str) -> list[Reply]:
        text = line.rstrip("\r\n")
        button = _chosen_button(text, self._buttons) if text.strip() else None
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=self._chat_id,
            text=text if button is None else button.label,
            payload=None if button is None else button.payload,
            display_name=self._name,
        )
        replies = await self._coach.handle(inbound)
        self._show(replies)
        return replies

    def _show(self, replies: list[Reply]) -> None:
        # Only the last message's options stay tappable, like a keyboard under it.
        self._buttons = next((r.buttons for r in reversed(replies) if r.buttons), ())
        for reply in replies:
            print(render(reply), end="\n\n", file=self._output, flush=True)

    # One person at a terminal: nothing to pace.
    scheduled_per_second = 100.0

    async def deliver(self, chat_id: str, reply: Reply) -> str | None:
        """Scheduled messages that fall due while the chat is open."""
        self._show([reply])
        return None


def make_chat(coach: Coach, stdout: TextIO = sys.stdout) -> ConsoleChat:
    # No name: the OS account ("Root", "Ubuntu") is not what the person is called.
    return ConsoleChat(coach, stdout, chat_id=CHAT_ID, name="")


async def run_chat(chat: ConsoleChat, stdin: TextIO = sys.stdin) -> None:
    interactive = stdin.isatty()
    if interactive:
        print("Ketik /start untuk mulai, /bantuan untuk daftar perintah. Ctrl+D untuk keluar.\n")
    while True:
        if interactive:
            print(PROMPT, end="", flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        await chat.send_line(line)
