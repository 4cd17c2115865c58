"""/bantuan, and the friendly answer to anything the bot doesn't understand."""

from __future__ import annotations

from handlers import onboarding
from handlers.context import Context
from handlers.dates import PERIODS
from handlers.parsing import shorten, simplify
from handlers.types import Reply

# Words in a free-text message that hint at what the user was looking for.
SUGGESTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("latihan", "soal", "pertanyaan", "jawab"), "/latihan"),
    (("tips", "tip", "saran"), "/tips"),
    (("mode", "teknis", "hrd"), "/mode"),
    (("jam", "pengingat", "reminder", "waktu"), "/pengingat"),
    (("zona", "wib", "wita", "wit"), "/zona"),
    (("peran", "role", "posisi", "developer", "qa", "data"), "/peran"),
    (("tanya", "nanya", "bertanya"), "/tanya_balik"),
    (("mulai", "start"), "/start"),
)
GREETINGS = frozenset({"halo", "hai", "hi", "hello", "hallo", "helo", "hei", "permisi"})


async def show_help(ctx: Context, args: str = "") -> list[Reply]:
    return [Reply(ctx.say("help"))]


def _words(text: str) -> list[str]:
    for mark in "?!,.":
        text = text.replace(mark, " ")
    return simplify(text).split()


def _suggestion(words: list[str]) -> str | None:
    return next((command for cues, command in SUGGESTIONS if set(words) & set(cues)), None)


def _is_greeting(words: list[str]) -> bool:
    # "halo kak", "selamat pagi": a short message that opens with a greeting. "jam 7
    # malam" is not one, so the time of day only counts after "selamat".
    if not words or len(words) > 4:
        return False
    if words[0] in GREETINGS:
        return True
    return len(words) > 1 and words[0] == "selamat" and words[1] in PERIODS


async def fallback(ctx: Context, text: str) -> list[Reply]:
    words = _words(text)
    if _is_greeting(words):
        if ctx.is_new_user:
            # Someone who opens with "halo" wants to begin, not to be told about /start.
            return await onboarding.start(ctx)
        name = ctx.user.display_name or "kamu"
        greeting = ctx.say("greeting", name=name, mode=ctx.mode_label())
        return [Reply(greeting, ctx.practice_or_tip_buttons())]
    command = _suggestion(words)
    if command is not None:
        return [Reply(ctx.say("fallback_suggest", command=command))]
    return [Reply(ctx.say("fallback_text"))]


async def unknown_command(ctx: Context, command: str) -> list[Reply]:
    return [Reply(ctx.say("unknown_command", command=shorten("/" + command, 24)))]
