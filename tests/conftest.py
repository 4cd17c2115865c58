from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from bot.app import App, open_app
from bot.db.models import ConversationState, PracticeAttempt, User
from bot.db.repositories import ConversationStateRepository, PracticeAttemptRepository
from bot.settings import Settings
from content.loader import CONTENT_DIR
from handlers.types import Inbound, Reply
from tests.databases import create_database, drop_database, postgres_server

pytest_plugins = ["tests.telegram_harness"]


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[URL]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: every test that takes it runs once on each."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
        return
    admin: URL = request.getfixturevalue("postgres_admin_url")
    url = await create_database(admin)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await drop_database(admin, url)


@pytest.fixture
async def app(database_url: str, clock: FakeClock) -> AsyncIterator[App]:
    async with open_app(Settings(database_url=database_url, _env_file=None), clock) as app:
        yield app


class Person:
    """A user talking to the coach through the router, as a channel would."""

    def __init__(self, app: App, chat_id: str = "1001", name: str = "Rina") -> None:
        self.app = app
        self.chat_id = chat_id
        self.name = name

    async def say(self, text: str) -> list[Reply]:
        return await self.app.coach.handle(
            Inbound("telegram", self.chat_id, text=text, display_name=self.name)
        )

    async def tap(self, payload: str) -> list[Reply]:
        return await self.app.coach.handle(
            Inbound("telegram", self.chat_id, payload=payload, display_name=self.name)
        )

    async def user(self) -> User:
        async with self.app.sessions() as session:
            user = await session.scalar(
                select(User).where(User.channel == "telegram", User.external_id == self.chat_id)
            )
            assert user is not None
            return user

    async def state(self) -> tuple[str, dict[str, object]] | None:
        user = await self.user()
        async with self.app.sessions() as session:
            row = await session.get(ConversationState, user.id)
            return None if row is None else (row.state, dict(row.data))

    async def practise(self, question_id: str) -> list[Reply]:
        """/latihan, then the given question in place of the one the rotation picked (the
        rotation is tested on its own), so an answer can be written for it."""
        replies = await self.say("/latihan")
        question = self.app.coach.library.question(question_id)
        assert question is not None
        user = await self.user()
        async with self.app.sessions() as session, session.begin():
            await ConversationStateRepository(session).set(
                user.id,
                "practice",
                {"question_id": question_id, "mode": question.mode},
                user.created_at,
            )
        return replies

    async def attempts(self) -> list[PracticeAttempt]:
        user = await self.user()
        async with self.app.sessions() as session:
            return await PracticeAttemptRepository(session).list_for_user(user.id)

    async def snapshot(self) -> tuple[object, ...]:
        """Everything a bad input must leave untouched."""
        user = await self.user()
        return (
            user.role,
            user.mode,
            user.timezone,
            user.daily_time,
            user.paused,
            await self.state(),
        )


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def payloads_of(replies: list[Reply]) -> list[str]:
    return [button.payload for reply in replies for button in reply.buttons]


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A copy of the real content folder, for a test to break one thing in."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture
def person(app: App) -> Person:
    return Person(app)
