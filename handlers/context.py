"""What a handler gets: the inbound message, the user, repositories, content and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.repositories import (
    ConversationStateRepository,
    PracticeAttemptRepository,
    ServedItemRepository,
    StateSnapshot,
    UserRepository,
)
from content.loader import Library
from handlers.types import Button, Inbound


@dataclass
class Context:
    inbound: Inbound
    session: AsyncSession
    user: User
    state: StateSnapshot | None
    is_new_user: bool
    library: Library
    now: datetime
    users: UserRepository
    states: ConversationStateRepository
    attempts: PracticeAttemptRepository
    served: ServedItemRepository

    @classmethod
    def build(
        cls,
        session: AsyncSession,
        inbound: Inbound,
        user: User,
        state: StateSnapshot | None,
        is_new_user: bool,
        library: Library,
        now: datetime,
    ) -> Context:
        return cls(
            inbound=inbound,
            session=session,
            user=user,
            state=state,
            is_new_user=is_new_user,
            library=library,
            now=now,
            users=UserRepository(session),
            states=ConversationStateRepository(session),
            attempts=PracticeAttemptRepository(session),
            served=ServedItemRepository(session),
        )

    def say(self, key: str, **values: object) -> str:
        return self.library.messages.render(key, **values)

    def button(self, label_key: str, payload: str) -> Button:
        return Button(self.say(label_key), payload)

    def practice_or_tip_buttons(self) -> tuple[Button, ...]:
        """The two ways forward after most replies: a practice question or another tip."""
        return (
            self.button("button_practice", "v1:latihan:next"),
            self.button("button_more_tips", "v1:tips:more"),
        )

    def mode_label(self, mode: str | None = None) -> str:
        return self.say(f"label_mode_{mode or self.user.mode}")

    def level_label(self) -> str:
        return self.say(f"label_level_{self.user.level or 'unknown'}")

    def role_label(self, role: str | None = None) -> str:
        return self.say(f"label_role_{role or self.user.role}")

    async def set_state(self, name: str, data: dict[str, Any] | None = None) -> None:
        await self.states.set(self.user.id, name, data or {}, self.now)
        self.state = StateSnapshot(name, data or {}, self.now)

    async def clear_state(self) -> None:
        await self.states.clear(self.user.id)
        self.state = None
