"""`interview-coach`: chat, run, db upgrade, content check and content stats."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.db.migrate import DatabaseUnavailable
from bot.settings import Settings
from content.loader import CONTENT_DIR

NO_CHANNEL_MESSAGE = (
    "No channel is configured: set TELEGRAM_BOT_TOKEN (or the WHATSAPP_* variables) to run "
    "the bot.\nTo try the coach without a token, run: interview-coach chat"
)


def _chat(settings: Settings) -> int:
    from bot.app import open_app
    from bot.channels.console import CHANNEL, make_chat, run_chat
    from scheduler.engine import SchedulerEngine

    async def main() -> None:
        async with open_app(settings) as app:
            chat = make_chat(app.coach)
            # Due messages for the console user are printed while the chat is open.
            engine = SchedulerEngine(app.sessions, app.coach.library, {CHANNEL: chat}, app.clock)
            engine.start()
            try:
                await run_chat(chat)
            finally:
                await engine.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print()
    return 0


def _run(settings: Settings) -> int:
    if not settings.has_channel:
        print(NO_CHANNEL_MESSAGE, file=sys.stderr)
        return 2
    from bot.runner import run_channels

    return asyncio.run(run_channels(settings))


def _db_upgrade(settings: Settings) -> int:
    from bot.db import migrate
    from bot.db.engine import create_engine

    async def main() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database is at revision {asyncio.run(main())}")
    return 0


def _content_check(directory: Path) -> int:
    from content.lint import lint

    library, problems = lint(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(
        f"content OK: {len(library.tips)} tips, {len(library.questions)} questions, "
        f"{len(library.ask_back)} questions to ask back."
    )
    return 0


def _content_stats(directory: Path, as_json: bool) -> int:
    from content.loader import read_files
    from content.stats import format_stats, library_stats

    library, _ = read_files(directory)
    stats = library_stats(library)
    print(json.dumps(stats, indent=2, ensure_ascii=False) if as_json else format_stats(stats))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interview-coach", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("chat", help="chat with the coach in the terminal")
    commands.add_parser("run", help="start the configured channels and the scheduler")
    db = commands.add_parser("db", help="database tasks")
    db.add_subparsers(dest="db_command", required=True).add_parser(
        "upgrade", help="apply migrations"
    )
    content = commands.add_parser("content", help="content tasks")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    for name, help_text in (("check", "validate the content"), ("stats", "count the content")):
        sub = content_commands.add_parser(name, help=help_text)
        sub.add_argument("--dir", type=Path, default=CONTENT_DIR, help="content folder")
        if name == "stats":
            sub.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Routine chatter (each migration plugin, each scheduler tick) drowns what matters.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "content":
        if args.content_command == "check":
            return _content_check(args.dir)
        return _content_stats(args.dir, args.json)
    settings = Settings()
    try:
        if args.command == "chat":
            logging.getLogger().setLevel(logging.WARNING)
            return _chat(settings)
        if args.command == "run":
            return _run(settings)
        return _db_upgrade(settings)
    except DatabaseUnavailable as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
