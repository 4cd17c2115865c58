"""Reservations of a shared send budget, for `bot.channels.pacing.Pacer`.

One row per budget (a bot's free rate, its paid broadcasts, a WhatsApp number) holds the
end of the slots already taken, by the database's clock, so instances whose clocks
differ still agree. A reservation is one statement: the row lock orders instances that
reserve at the same moment."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

RESERVE = text(
    """
    INSERT INTO send_budget (budget, next_slot)
    VALUES (:budget, extract(epoch FROM clock_timestamp()) + :seconds)
    ON CONFLICT (budget) DO UPDATE
    SET next_slot = GREATEST(send_budget.next_slot, extract(epoch FROM clock_timestamp()))
        + :seconds
    RETURNING next_slot - :seconds - extract(epoch FROM clock_timestamp())
    """
)


class SharedBudget:
    def __init__(self, engine: AsyncEngine, budget: str) -> None:
        self._engine = engine
        self._budget = budget

    async def reserve(self, seconds: float) -> float:
        async with self._engine.begin() as connection:
            starts_in = await connection.scalar(
                RESERVE, {"budget": self._budget, "seconds": seconds}
            )
        return float(starts_in)


def shared_budget(engine: AsyncEngine, budget: str) -> SharedBudget | None:
    """PostgreSQL's budget, which every instance on the database shares; None on SQLite,
    which serves one machine's single instance."""
    return SharedBudget(engine, budget) if engine.dialect.name == "postgresql" else None
