"""/bantuan, and the friendly answer to anything the bot doesn't understand."""

from __future__ import annotations

from handlers.context import Context
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
    (("halo", "hai", "hi", "mulai", "start"), "/start"),
)


async def show_help(ctx: Context, args: str = "") -> list[Reply]:
    return [Reply(ctx.say("help"))]


def _suggestion(text: str) -> str | None:
    words = set(simplify(text).replace("?", " ").replace("!", " ").split())
    return next((command for cues, command in SUGGESTIONS if words & set(cues)), None)


async def fallback(ctx: Context, text: str) -> list[Reply]:
    command = _suggestion(text)
    if command is not None:
        return [Reply(ctx.say("fallback_suggest", command=command))]
    return [Reply(ctx.say("fallback_text"))]


async def unknown_command(ctx: Context, command: str) -> list[Reply]:
    return [Reply(ctx.say("unknown_command", command=shorten("/" + command, 24)))]
