"""The coach (`interview-coach run`, webhook mode) and the aiogram echo bot
(`benchmarks.echo_bot`) as real processes on the fake Bot API, for `benchmarks.webhook`,
`benchmarks.startup` and `benchmarks.webhook_profile`: start, wait for `/healthz`, post
updates with the webhook secret, read CPU time from /proc, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.telegram_harness import WEBHOOK_SECRET, free_port

REPO = Path(__file__).resolve().parent.parent
WEBHOOK_PATH = "/webhook/telegram"
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What the coach registers with setWebhook; Telegram only takes HTTPS, so TLS would end at
# a proxy in front of the plain HTTP port the benchmark posts to.
PUBLIC_WEBHOOK_URL = "https://coach.example.test/webhook/telegram"
# The coach's send limiter, lifted: the benchmark measures the bot, not Telegram's 30/s.
UNLIMITED_MESSAGES_PER_SECOND = "1000000"
STARTUP_DEADLINE_SECONDS = 120
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path
    spawned_at: float  # time.monotonic() just before the spawn

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HEALTH_PATH}"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    async def post(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> int:
        headers = {SECRET_HEADER: WEBHOOK_SECRET}
        async with http.post(self.webhook_url, json=update, headers=headers) as response:
            await response.read()
            return response.status

    async def wait_healthy(self, http: aiohttp.ClientSession) -> float:
        """Polls /healthz until it answers 200; returns when it did (time.monotonic())."""
        deadline = self.spawned_at + STARTUP_DEADLINE_SECONDS
        timeout = aiohttp.ClientTimeout(total=5)
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited ({self.log_path}):\n{self.log_tail()}")
            try:
                async with http.get(self.health_url, timeout=timeout) as response:
                    if response.status == 200:
                        return time.monotonic()
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.005)
        raise RuntimeError(f"{self.name} was not healthy in time:\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        problems = self.log_problems()
        if problems:
            print(
                f"{self.name}: {len(problems)} warning/error line(s) in its log, e.g.:\n  "
                + "\n  ".join(problems[:5]),
                file=sys.stderr,
            )
        if self.process.returncode != 0 or "Traceback" in self.log_tail(200):
            print(
                f"warning: {self.name} exited with {self.process.returncode}; "
                f"see {self.log_path}:\n{self.log_tail()}",
                file=sys.stderr,
            )

    def log_problems(self) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [
            line
            for line in text.splitlines()
            if ":WARNING:" in line or " WARNING " in line or ":ERROR:" in line or " ERROR " in line
        ]

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a process, all its threads, from /proc/<pid>/stat; or of
    one of its threads (/proc/<pid>/task/<tid>/stat)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    stat = Path(path).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5) (utime, stime); `fields` starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


async def settled_cpu_seconds(bot: BotProcess, limit: float = 3.0) -> float:
    """The process's CPU time once it has gone quiet (the work an update leaves behind
    after its reply, such as marking the outbox row sent, belongs to that update)."""
    previous = bot.cpu_seconds()
    waited = 0.0
    while waited < limit:
        await asyncio.sleep(0.1)
        waited += 0.1
        current = bot.cpu_seconds()
        if current - previous <= 1 / _CLOCK_TICKS:
            return current
        previous = current
    return previous


def _environment(folder: Path) -> dict[str, str]:
    """This environment without channel settings, and with a bytecode cache in `folder`
    (a deployed bot has its .pyc files; PYTHONDONTWRITEBYTECODE would compile the project's
    modules from source at every start, and a cache inside the checkout is not ours to
    write)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WHATSAPP_", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE"))
    }
    return {**env, "PYTHONPYCACHEPREFIX": str(folder / "pycache"), "PYTHONPATH": str(REPO)}


async def _spawn(
    name: str, command: list[str], env: dict[str, str], cwd: Path, port: int, log_path: Path
) -> BotProcess:
    log_file = log_path.open("ab")
    try:
        spawned_at = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        log_file.close()
    return BotProcess(name, process, port, log_path, spawned_at)


def coach_command(python: str = sys.executable) -> list[str]:
    """`.venv/bin/interview-coach run`, next to the interpreter running the benchmark."""
    script = Path(python).parent / "interview-coach"
    return [str(script), "run"] if script.exists() else [python, "-m", "bot.cli", "run"]


async def start_coach(
    api_url: str,
    token: str,
    database_url: str,
    folder: Path,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """`interview-coach run` in webhook mode with the send limiter lifted. It runs in
    `folder`, so that no `.env` of the checkout is read."""
    port = free_port()
    env = {
        **_environment(folder),
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_WEBHOOK_URL": PUBLIC_WEBHOOK_URL,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_MESSAGES_PER_SECOND": UNLIMITED_MESSAGES_PER_SECOND,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **(extra_env or {}),
    }
    return await _spawn(
        "coach", command or coach_command(), env, folder, port, folder / "coach.log"
    )


async def start_echo(api_url: str, token: str, folder: Path) -> BotProcess:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmarks.echo_bot",
        "--port",
        str(port),
        "--api-url",
        api_url,
        "--token",
        token,
        "--secret",
        WEBHOOK_SECRET,
        "--webhook-url",
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
    ]
    return await _spawn("echo", command, _environment(folder), REPO, port, folder / "echo.log")
