"""Process settings from the environment, read once at start-up and injected everywhere.

Every variable is documented in README's configuration reference. Contradictions stop start-up with a
message that names the variable (see :meth:`Settings.check`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import PoolOptions

MIN_HASH_KEY = 16  # bytes
MIN_RETENTION_DAYS = 42  # the pattern report reads five weeks back; retention never takes what it reads
DEVELOPMENT_HASH_KEY = b"cxbot-development-key-set-CX_HASH_KEY"
MAKE_KEY = (
    "Make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`, keep it secret, and never "
    "change it: comments hashed under another key can no longer be found by `cxbot forget`"
)


class Settings(BaseSettings):
    # An empty variable is an unset one: `CX_INGEST_TOKEN=` left in .env (or passed on by compose) means "not yet",
    # not an empty token, and `CX_CORE_THREADS=` the default rather than an error.
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False, env_ignore_empty=True)

    # storage
    database_url: str = "sqlite:///cxbot.db"
    # connection pool per replica (PostgreSQL; storage.db.PoolOptions says why each matters)
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    db_pool_timeout: float = Field(default=30.0, gt=0, le=600)
    db_pool_recycle: int = Field(default=1800, ge=-1, le=86400)
    db_pool_pre_ping: bool = True
    db_application_name: str = Field(default="cxbot", min_length=1, max_length=63, pattern=r"^[\x20-\x7e]+$")
    # CX configuration (departments, rules); None = the bundled example
    cx_config: Path | None = None
    cx_keep_raw: bool = False
    # key for the keyed hashes of removed personal data (stories.identifiers; erasure finds comments by them)
    cx_hash_key: SecretStr | None = None
    # days comments and stories are kept (0: for ever); weekly aggregates outlive them (storage/retention.py)
    cx_retention_days: int = Field(default=365, ge=0, le=36500)
    cx_ingest_token: SecretStr | None = None
    cx_instance: str | None = None  # a name for this replica in outbox claims; default host:pid
    cx_core_threads: int | None = Field(default=None, ge=1, le=32)  # see core_threads
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "console"  # json: one object a line with request/event/delivery ids
    port: int = Field(default=3000, ge=1, le=65535)

    # language model (offline summariser when no model is set)
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    openai_base_url: str | None = None
    openai_timeout: float = Field(default=20.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    openai_batch_size: int = Field(default=25, ge=1, le=50)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # app configuration token (xoxe.xoxp-...), only for `cxbot slack-app create`; Slack makes it last 12 hours
    slack_config_token: SecretStr | None = None

    # Microsoft Teams (read as botbuilder's ConfigurationBotFrameworkAuthentication reads them)
    microsoft_app_id: str | None = None
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    # Without an app id the Teams route is off; true serves a Bot Framework Emulator on this machine, unauthenticated
    cx_teams_emulator: bool = False

    @field_validator("cx_config")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        """``CX_CONFIG=~/cxbot.yaml`` in .env, where no shell expands the ``~``."""
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        scheme = self.database_url.partition(":")[0].partition("+")[0].casefold()
        if scheme not in ("sqlite", "postgresql", "postgres"):  # the migrations and upserts speak these two only
            raise ValueError(
                f"DATABASE_URL must be sqlite:///FILE or postgresql://USER@HOST/DB (cxbot runs on SQLite and "
                f"PostgreSQL), not {scheme or 'an empty scheme'}://..."
            )
        if self.openai_model and not (self.openai_api_key or self.openai_base_url):
            raise ValueError("OPENAI_MODEL is set but neither OPENAI_API_KEY nor OPENAI_BASE_URL is; set one")
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise ValueError("set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together (OAuth for several workspaces)")
        if self.slack_client_id and self.slack_bot_token:
            raise ValueError(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set; use SLACK_BOT_TOKEN for one workspace "
                "or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET for OAuth, not both"
            )
        if (self.slack_bot_token or self.slack_client_id) and not (self.slack_signing_secret or self.slack_app_token):
            raise ValueError(
                "SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN or SLACK_CLIENT_ID: copy it from the app's "
                "Basic Information page (`cxbot slack-app create` prints it), or set SLACK_APP_TOKEN for Socket Mode"
            )
        if self.slack_app_token and not (self.slack_bot_token or self.slack_client_id):
            raise ValueError("SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not; Socket Mode needs the bot token too")
        if self.slack_app_token and not self.slack_app_token.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode)")
        if self.cx_hash_key is not None and len(self.cx_hash_key.get_secret_value().encode()) < MIN_HASH_KEY:
            raise ValueError(f"CX_HASH_KEY must be at least {MIN_HASH_KEY} bytes; {MAKE_KEY}")
        if 0 < self.cx_retention_days < MIN_RETENTION_DAYS:
            raise ValueError(
                f"CX_RETENTION_DAYS must be 0 (keep for ever) or at least {MIN_RETENTION_DAYS}: the weekly pattern "
                f"report reads the last five weeks of comments"
            )
        if self.microsoft_app_type == "SingleTenant" and self.microsoft_app_id and not self.microsoft_app_tenant_id:
            raise ValueError("MICROSOFT_APP_TENANT_ID is required when MICROSOFT_APP_TYPE=SingleTenant")
        if self.cx_teams_emulator and self.microsoft_app_id:
            raise ValueError(
                "CX_TEAMS_EMULATOR=true and MICROSOFT_APP_ID are both set; the Emulator mode is for running without "
                "an app id (unauthenticated, local only): unset one of them"
            )
        return self

    @property
    def pool(self) -> PoolOptions:
        """The DB_POOL_* settings for :func:`storage.db.make_engine`."""
        return PoolOptions(
            size=self.db_pool_size,
            overflow=self.db_max_overflow,
            timeout=self.db_pool_timeout,
            recycle=self.db_pool_recycle,
            pre_ping=self.db_pool_pre_ping,
            application_name=self.db_application_name,
        )

    @property
    def teams_enabled(self) -> bool:
        """Whether ``/api/messages`` serves: with an app id (authenticated), or in Emulator mode (local only)."""
        return bool(self.microsoft_app_id) or self.cx_teams_emulator

    @property
    def core_threads(self) -> int:
        """Threads the sync core runs in while serving: CX_CORE_THREADS, else one (fastest acks, bench/slack_ack.py),
        or three with a language model, whose slow answers should not hold up the rest of the core."""
        if self.cx_core_threads is not None:
            return self.cx_core_threads
        return 3 if self.openai_model else 1

    @property
    def hash_key(self) -> bytes:
        """CX_HASH_KEY, or a development key that is the same everywhere (hashes then only as good as a plain
        hash: production must set CX_HASH_KEY, see :meth:`hash_key_problem`)."""
        if self.cx_hash_key is not None:
            return self.cx_hash_key.get_secret_value().encode()
        return DEVELOPMENT_HASH_KEY

    def hash_key_problem(self) -> tuple[str, str] | None:
        """``("error" | "warning", message)`` when CX_HASH_KEY is unset, else None.

        On PostgreSQL (production) the commands that hash personal data or look it up (serve, import, forget)
        refuse to start without it: a development key known to everyone would let anyone holding the database
        test guessed e-mail addresses against the hashes, and hashes made under one key cannot be found under
        another. SQLite (the demo, a trial) goes on with the development key and a warning.
        """
        if self.cx_hash_key is not None:
            return None
        if self.database_url.startswith("postgresql"):
            return "error", f"CX_HASH_KEY is not set; it is required with a PostgreSQL database. {MAKE_KEY}"
        return "warning", f"CX_HASH_KEY is not set: using the development key (fine for a trial on SQLite). {MAKE_KEY}"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_client_id)

    @property
    def instance_name(self) -> str:
        if self.cx_instance:
            return self.cx_instance
        import os
        import socket

        return f"{socket.gethostname()}:{os.getpid()}"
