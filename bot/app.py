"""Wires the pieces every entry point needs: database (migrated), content and the coach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.settings import Settings
from content.loader import load_library
from handlers.router import Coach


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    coach: Coach
    clock: Clock


@asynccontextmanager
async def open_app(settings: Settings, clock: Clock = utc_now) -> AsyncIterator[App]:
    library = load_library()
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        yield App(settings, engine, sessions, Coach(sessions, library, clock), clock)
    finally:
        await engine.dispose()
