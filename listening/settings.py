"""The environment, read in one place: where the store is, where data lives, mail secrets.

Config (``listening.yaml``) says what to listen to; Settings say where this process runs.
Values come from the environment, then a ``.env`` file in the working directory; a
process reads them when it starts a store, a mail flush or a demo, and children inherit
the environment. Secrets live only here, never in the config file.

    settings = Settings()            # MONGO_URI, LISTENING_DATA, SMTP_PASSWORD, ...
    settings.data_dir                # ./data unless LISTENING_DATA says otherwise
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from listening.errors import ConfigError

__all__ = ["Settings", "named", "settings"]

# Our own checkout's ../shared (the fixtures folder beside it), where the demo finds its data.
_CHECKOUT_SHARED = Path(__file__).resolve().parents[2] / "shared"


class Settings(BaseSettings):
    """Every environment variable the product reads (names are the upper-case field names)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True,
                                      populate_by_name=True)

    mongo_uri: str | None = Field(None, alias="MONGO_URI", description="a real MongoDB; unset: the embedded store")
    db: str | None = Field(None, alias="LISTENING_DB", description="database name (default: listening)")
    data: Path | None = Field(None, alias="LISTENING_DATA", description="the data folder (default: ./data)")
    db_cache: str = Field("256M", alias="LISTENING_DB_CACHE", description="embedded store's WiredTiger cache")
    config: Path | None = Field(None, alias="LISTENING_CONFIG", description="listening.yaml to use")
    shared: Path | None = Field(None, alias="LISTENING_SHARED", description="the shared fixtures folder (demo data)")
    redis_url: str | None = Field(None, alias="REDIS_URL", description="crawl queues shared through Redis")
    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int | None = Field(None, alias="SMTP_PORT")
    smtp_starttls: bool | None = Field(None, alias="SMTP_STARTTLS")
    smtp_user: str | None = Field(None, alias="SMTP_USER")
    smtp_password: str | None = Field(None, alias="SMTP_PASSWORD")
    smtp_sender: str | None = Field(None, alias="SMTP_SENDER")

    @property
    def data_dir(self) -> Path:
        """``LISTENING_DATA`` when set, else ``./data`` under the working directory."""
        return Path(self.data or Path.cwd() / "data").resolve()

    @property
    def shared_dir(self) -> Path:
        """``LISTENING_SHARED`` when set, else the ``shared`` folder beside a checkout."""
        return Path(self.shared or _CHECKOUT_SHARED)


def settings() -> Settings:
    """The environment as it is now; a bad value is a ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"environment: {problems}") from None


def named(name: str) -> str | None:
    """A variable the config names (``channels[].url_env``, ``secret_env``): a webhook URL or a
    signing key, from the environment, then ``.env``; None when unset or empty."""
    value = os.environ.get(name)
    if not value and Path(".env").exists():
        value = dotenv_values(".env").get(name)
    return value or None
