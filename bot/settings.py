"""Settings from the environment (and `.env`), per the environment contract in design.md."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/coach.db"
# The bot is async: a URL without a driver (as hosting providers hand them out) gets the
# async one, instead of failing on a missing psycopg.
ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # The free budget replies and scheduled messages share (Telegram allows about 30).
    telegram_messages_per_second: float = Field(default=25, gt=0)
    # Scheduled messages with `allow_paid_broadcast`, billed in Stars past the free 30/s.
    telegram_paid_broadcast: bool = False
    telegram_paid_broadcast_per_second: float = Field(default=1000, gt=0, le=1000)
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    # The approved template a scheduled message becomes outside the 24-hour window.
    whatsapp_template_reengage: str = "mulai_latihan"
    whatsapp_template_language: str = "id"
    whatsapp_messages_per_second: float = Field(default=80, gt=0)
    # Between two scheduled messages to one user (Meta's pair limit, error 131056).
    whatsapp_pair_interval_seconds: float = Field(default=6, ge=0)

    # /healthz turns 503 when polling has not got through, or an update has waited to be
    # handled, for this long.
    inbound_stall_seconds: int = Field(default=120, ge=1)
    # After SIGTERM: how long to finish what was fetched; the rest waits for the next start.
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        # ADMIN_IDS is a comma-separated list, e.g. "telegram:123,whatsapp:62812...".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        return f"{ASYNC_DRIVERS.get(scheme, scheme)}{separator}{rest}"

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "whatsapp_access_token",
        "whatsapp_phone_number_id",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_access_token is not None and self.whatsapp_phone_number_id is not None

    @property
    def has_channel(self) -> bool:
        return self.telegram_enabled or self.whatsapp_enabled

    def secret_values(self) -> list[str]:
        secrets = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.whatsapp_access_token,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
        )
        return [secret.get_secret_value() for secret in secrets if secret is not None]
