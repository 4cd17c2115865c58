"""SQLAlchemy models. Migrations in `bot/db/migrations` must match them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out; SQLite would otherwise hand back naive
    datetimes and comparisons with aware ones would fail."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_chat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    # The user's other id on the channel, where it has two: on WhatsApp the phone number
    # of a user who is keyed by their business-scoped user id.
    alt_external_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16), default="umum")
    # Experience level (fresh, junior, senior, switcher); None until the user says.
    level: Mapped[str | None] = mapped_column(String(16), default=None)
    mode: Mapped[str] = mapped_column(String(8), default="hr")
    timezone: Mapped[str] = mapped_column(String(32), default="Asia/Jakarta")
    daily_time: Mapped[time] = mapped_column(Time, default=time(7, 0))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    next_tip_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationState(Base):
    """Where the user is in a multi-step flow; one row per user, kept in the database so
    that any process can serve the next message."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PracticeAttempt(Base):
    __tablename__ = "practice_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    answer: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer)
    feedback_summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServedItem(Base):
    """Which tips and questions a user has already seen, so the pool is used up before
    anything repeats."""

    __tablename__ = "served_items"
    __table_args__ = (UniqueConstraint("user_id", "item_id", name="uq_served_user_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(64))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # or "cancelled"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """A message the bot sends on its own. The planner inserts rows (a dedupe key makes a
    second insert a no-op); the dispatcher claims due rows under a lease and marks them."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16))  # "tip", "plan", "nudge", "reply"
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    item_id: Mapped[str] = mapped_column(String(64), default="")
    # A reply that could not be sent at once, as JSON (text and buttons).
    payload: Mapped[str] = mapped_column(Text, default="", server_default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Not sent after this moment (a late daily tip, an interview that has started).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    # The platform's id of the message sent (a WhatsApp wamid), for its later statuses.
    sent_ref: Mapped[str] = mapped_column(String(128), default="", server_default="", index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the platform reported the message delivered to the phone, and read.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundUpdate(Base):
    """The inbound journal: every update a platform delivered, written before it is
    acknowledged (the polling offset moves on, the webhook gets its 200), and marked done
    in the transaction that stores its effects and replies. The platform's id plus a
    digest of the payload is the key, so a redelivery is recognised and a reused id with
    new content is not mistaken for one."""

    __tablename__ = "inbound"
    __table_args__ = (
        UniqueConstraint("channel", "bot_id", "platform_id", "digest", name="uq_inbound_update"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    bot_id: Mapped[str] = mapped_column(String(64))  # which bot (token, phone number) got it
    platform_id: Mapped[str] = mapped_column(String(128))  # update_id, WhatsApp message id
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the payload
    chat_id: Mapped[str] = mapped_column(String(64), default="")  # "" when none was found
    kind: Mapped[str] = mapped_column(String(32), default="")  # "message", "callback_query"
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SendBudget(Base):
    """A sender's rate shared by every instance: the time (seconds since the epoch,
    by the database's clock) before which the slots are taken."""

    __tablename__ = "send_budget"

    # "telegram:<bot id>", "telegram-paid:<bot id>", "whatsapp:<phone number id>"
    budget: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float)
