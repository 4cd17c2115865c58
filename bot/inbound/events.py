"""What a channel's decoder makes of one journalled update, in the coach's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.types import Inbound


@dataclass(frozen=True, slots=True)
class Handle:
    """A message or a button tap for the coach. `edit_target` is the platform's id of
    the message whose button was tapped, which the first reply may replace."""

    inbound: Inbound
    edit_target: str | None = None


@dataclass(frozen=True, slots=True)
class Reachability:
    """The user blocked the bot (or unblocked it)."""

    chat_id: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class Notice:
    """A fixed message (a `messages.yaml` key) to a private chat, e.g. for an update
    that could not be read."""

    chat_id: str
    message: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The platform's later word on a message the bot sent (`ref`, its id): it was
    "sent", "delivered" or "read", or it failed because the user can't be reached
    ("unreachable") or for another reason ("failed", with `reason`)."""

    chat_id: str
    ref: str
    outcome: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ignore:
    """Nothing for the coach: a service message, a group, an update kind we don't use."""

    reason: str


Event = Handle | Reachability | Notice | StatusReport | Ignore
Action = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Decoded:
    """The event, plus what the channel must do around it: `before` right away (stop a
    button's spinner), `after` once the replies are out (leave a group). Both are best
    effort. `readable` is False when the platform's payload could not be parsed."""

    event: Event
    before: Action | None = None
    after: Action | None = None
    readable: bool = True
