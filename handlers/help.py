"""/bantuan, and the friendly answer to anything the bot doesn't understand."""

from __future__ import annotations

from collections.abc import Iterable

from handlers import onboarding
from handlers.context import Context
from handlers.parsing import shorten
from handlers.types import Button, Reply

# How far a typed command may be from a real one and still be suggested: one slip in a
# short name ("/jeda"), two in a longer one ("/latian", "/pengigat").
SHORT_COMMAND_CHARS = 5


async def show_help(ctx: Context, args: str = "") -> list[Reply]:
    return [Reply(ctx.say("help"))]


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of two neighbours ("latiahn")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]


def closest_command(typed: str, commands: Iterable[str]) -> str | None:
    """The command a typo most likely meant, if it is close enough to only one."""
    allowed = 1 if len(typed) <= SHORT_COMMAND_CHARS else 2
    scored = sorted((edit_distance(typed, name), name) for name in commands)
    close = [(d, name) for d, name in scored if d <= allowed]
    if not close or (len(close) > 1 and close[0][0] == close[1][0]):
        return None
    return close[0][1]


async def greet(ctx: Context) -> list[Reply]:
    if ctx.is_new_user:
        # Someone who opens with "halo" wants to begin, not to be told about /start.
        return await onboarding.start(ctx)
    name = ctx.user.display_name or "kamu"
    greeting = ctx.say("greeting", name=name, mode=ctx.mode_label())
    return [Reply(greeting, ctx.practice_or_tip_buttons())]


async def fallback(ctx: Context, text: str) -> list[Reply]:
    command = ctx.library.phrases().hint(text)
    if command is not None:
        return [Reply(ctx.say("fallback_suggest", command="/" + command))]
    return [Reply(ctx.say("fallback_text"))]


async def unknown_command(ctx: Context, command: str, known: Iterable[str]) -> list[Reply]:
    meant = closest_command(command, known)
    if meant is not None:
        button = Button(ctx.say("button_run_command", command="/" + meant), f"v1:cmd:{meant}")
        return [Reply(ctx.say("command_typo", command="/" + meant), (button,))]
    return [Reply(ctx.say("unknown_command", command=shorten("/" + command, 24)))]
