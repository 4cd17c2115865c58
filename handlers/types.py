"""Channel-agnostic message types: what a channel hands in and what a handler hands back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Button:
    """A tappable option. `payload` is versioned callback data, e.g. ``v1:mode:user``."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a user did: a typed message or a button tap (``payload`` set)."""

    channel: str
    chat_id: str
    text: str = ""
    payload: str | None = None
    display_name: str = ""
    # A photo, sticker, voice note or file: something the coach cannot read yet.
    has_media: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send. Text is plain: each channel escapes and formats it itself.

    `edit` asks the channel to replace the message that carried the tapped button, where
    the channel can do that, instead of sending a new one.
    """

    text: str
    buttons: tuple[Button, ...] = field(default=())
    edit: bool = False
