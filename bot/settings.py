"""Every setting Rolecall reads, typed, in one place.

Names follow Probot where Probot has one (`APP_ID`, `PRIVATE_KEY`, `WEBHOOK_SECRET`)
and the anthropic SDK for the model (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`), so an
existing `.env` keeps working. Settings are built once by `get_settings()` and passed
explicitly; nothing reads the environment at import time.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pydantic_settings
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agents.host import running_as_host_root
from agents.sandbox.limits import ResourceLimits
from agents.sandbox.user import SandboxUser, SandboxUserError, unreachable_by
from agents.text.redact.judging import looks_secret
from agents.workspace.volume import WorktreeVolume
from bot.app_credentials import StoredAppSettings
from bot.providers import PROVIDERS_EXAMPLE, ProviderSettings, check_providers

DEFAULT_MODEL = "claude-sonnet-5-5"


class SettingsError(Exception):
    """Settings that cannot be used; `lines` holds one actionable line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # The GitHub App (Probot's names).
    app_id: int | None = Field(default=None, validation_alias="APP_ID")
    private_key: SecretStr | None = Field(default=None, validation_alias="PRIVATE_KEY")
    private_key_path: Path | None = Field(default=None, validation_alias="PRIVATE_KEY_PATH")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    # Accepted alongside WEBHOOK_SECRET while a secret rotation is under way.
    webhook_secret_previous: SecretStr | None = Field(
        default=None, validation_alias="WEBHOOK_SECRET_PREVIOUS"
    )
    github_api_url: str = Field(default="https://api.github.com", validation_alias="GITHUB_API_URL")

    # The model API (the anthropic SDK's names).
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(default=None, validation_alias="ANTHROPIC_BASE_URL")
    model: str = Field(default=DEFAULT_MODEL, validation_alias="ROLECALL_MODEL")
    # Further providers speaking the Messages API, as JSON: {"name": {"base_url", "api_key"}}
    # (see bot/providers.py); `anthropic` and `ollama` are known without it.
    providers: dict[str, ProviderSettings] = Field(
        default_factory=dict, validation_alias="ROLECALL_PROVIDERS"
    )

    # Storage and execution.
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(), validation_alias="ROLECALL_DATA_DIR"
    )
    database_url: str | None = Field(default=None, validation_alias="ROLECALL_DATABASE_URL")
    queue_url: str | None = Field(default=None, validation_alias="ROLECALL_QUEUE_URL")
    sandbox: Literal["bwrap", "none"] = Field(default="bwrap", validation_alias="ROLECALL_SANDBOX")
    allow_unsafe_sandbox: bool = Field(
        default=False, validation_alias="ROLECALL_ALLOW_UNSAFE_SANDBOX"
    )
    # How far a job's worktree may grow beyond its checkout: a kernel limit (a tmpfs of
    # its own, agents.workspace.volume) when serve/worker run in their own namespace.
    worktree_growth_mb: int = Field(
        default=1024, ge=1, le=1024 * 1024, validation_alias="ROLECALL_WORKTREE_GROWTH_MB"
    )
    # Whom sandboxed commands run as on the host when Rolecall runs as root: by default
    # `nobody`, so root gains an agent nothing. Ignored (there is no one to drop to)
    # when Rolecall already runs as an unprivileged user.
    sandbox_user: str = Field(
        default="nobody", min_length=1, validation_alias="ROLECALL_SANDBOX_USER"
    )
    workers: int = Field(default=2, ge=1, le=64, validation_alias="ROLECALL_WORKERS")
    # Default limits for one agent run; a role's own `maxTurns` takes precedence.
    max_turns: int = Field(default=50, ge=1, le=1000, validation_alias="ROLECALL_MAX_TURNS")
    max_minutes: float = Field(
        default=30, gt=0, le=24 * 60, validation_alias="ROLECALL_MAX_MINUTES"
    )
    max_cost_usd: Decimal = Field(
        default=Decimal(5), gt=0, validation_alias="ROLECALL_MAX_COST_USD"
    )
    command_timeout: float = Field(
        default=300, gt=0, le=3600, validation_alias="ROLECALL_COMMAND_TIMEOUT"
    )
    # Bounds a run on a model whose price is unknown, in place of the cost limit:
    # tokens, cache reads counted at a tenth (agents.run_limits.counted_tokens).
    max_total_tokens: int = Field(default=2_000_000, ge=1, validation_alias="ROLECALL_MAX_TOKENS")
    # The context window, in tokens, of a model agents.context_window does not know.
    context_window: int | None = Field(
        default=None, gt=0, validation_alias="ROLECALL_CONTEXT_WINDOW"
    )

    # The HTTP server (Probot's defaults).
    host: str = Field(default="0.0.0.0", validation_alias="HOST")  # noqa: S104
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    log_level: Literal["trace", "debug", "info", "warning", "error", "critical"] = Field(
        default="info", validation_alias="LOG_LEVEL"
    )
    # `text` (one readable line) or `json` (one object per line, with the delivery, job,
    # repository and phase each line belongs to where known).
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="LOG_FORMAT")
    # Where GitHub reaches this server (`https://rolecall.example.com`): the webhook and
    # redirect URLs of the App registered through the setup page. Taken from the request
    # that opens the setup page when unset.
    public_url: str | None = Field(default=None, validation_alias="ROLECALL_PUBLIC_URL")
    # The App's OAuth client, for signing in to the dashboard (user-to-server).
    github_client_id: str | None = Field(default=None, validation_alias="GITHUB_CLIENT_ID")
    github_client_secret: SecretStr | None = Field(
        default=None, validation_alias="GITHUB_CLIENT_SECRET"
    )
    # A token an operator presents (`Authorization: Bearer …`) to see every job on the
    # dashboard and /metrics without signing in with GitHub.
    operator_token: SecretStr | None = Field(
        default=None, validation_alias="ROLECALL_OPERATOR_TOKEN"
    )
    # The App's own account (e.g. `rolecall[bot]`), handed to the handlers so Rolecall
    # never acts on its own events; optional because bot senders are ignored anyway.
    bot_login: str | None = Field(default=None, validation_alias="ROLECALL_BOT_LOGIN")

    # The trust boundary (see SECURITY.md).
    # Bot accounts that may start work, by exact login (e.g. `renovate[bot]`), comma
    # separated; every other Bot or App is ignored. Their live permission is still checked.
    allowed_bots: str = Field(default="", validation_alias="ROLECALL_ALLOWED_BOTS")
    # Loop breaker: at most this many jobs per issue or pull request per hour.
    max_jobs_per_thread_per_hour: int = Field(
        default=6, ge=1, le=1000, validation_alias="ROLECALL_MAX_JOBS_PER_THREAD_PER_HOUR"
    )
    # Host names (`pypi.org`, `*.pythonhosted.org`, `registry.npmjs.org:443`) the roles in
    # ROLECALL_NETWORK_ROLES may reach through Rolecall's egress proxy. Empty or
    # malformed: no network for anyone (agents.sandbox.netproxy.parse_allowlist).
    network_allowlist: str = Field(default="", validation_alias="ROLECALL_NETWORK_ALLOWLIST")
    # Role names granted that network, comma separated; `*` for every role.
    network_roles: str = Field(default="", validation_alias="ROLECALL_NETWORK_ROLES")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Last: what the setup page stored (<data dir>/github-app.json) fills only the
        # values the environment and .env leave unset (bot.app_credentials).
        stored = StoredAppSettings(settings_cls, default_data_dir)
        return init_settings, env_settings, dotenv_settings, file_secret_settings, stored

    def allowed_bot_logins(self) -> frozenset[str]:
        """ROLECALL_ALLOWED_BOTS as a set of logins (compared case-insensitively later)."""
        return frozenset(name for name in _split_list(self.allowed_bots))

    def network_roles_set(self) -> frozenset[str]:
        return frozenset(_split_list(self.network_roles))

    @field_validator("github_api_url", "anthropic_base_url", "public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: dict[str, ProviderSettings]) -> dict[str, ProviderSettings]:
        return check_providers(value)

    @field_validator("sandbox", "log_level", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        # Refused here, as one line, rather than as a driver traceback at the first query.
        if value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        return value

    @field_validator("queue_url")
    @classmethod
    def _known_queue(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError("use sqlite:///PATH or redis://HOST:PORT/DB")
        return value

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'rolecall.db').resolve()}"

    def resolved_queue_url(self) -> str:
        return self.queue_url or f"sqlite:///{(self.data_dir / 'queue.db').resolve()}"

    def webhook_secrets(self) -> list[bytes]:
        """The secrets a delivery may be signed with: current first, then the previous one."""
        return [
            secret.get_secret_value().encode()
            for secret in (self.webhook_secret, self.webhook_secret_previous)
            if secret is not None and secret.get_secret_value()
        ]

    def private_key_pem(self) -> str | None:
        """The App's private key from PRIVATE_KEY, or read from PRIVATE_KEY_PATH."""
        if self.private_key is not None:
            # Probot accepts keys whose newlines were escaped to fit one env line.
            return self.private_key.get_secret_value().replace("\\n", "\n")
        if self.private_key_path is not None:
            return self.private_key_path.read_text()
        return None

    def known_secrets(self) -> list[str]:
        """Every secret value this process holds, for the redactor and the log filter.

        One list, so what is redacted from posts and what is redacted from logs never
        drift apart: the webhook secrets, the model keys (every provider's), the App's
        private key (as written, and as PEM) and the passwords in the database and
        queue URLs.
        """
        values: list[str | None] = [
            _plain(self.webhook_secret),
            _plain(self.webhook_secret_previous),
            _plain(self.anthropic_api_key),
            *(_plain(entry.api_key) for entry in self.providers.values()),
            _plain(self.private_key),
            _plain(self.github_client_secret),
            _plain(self.operator_token),
        ]
        try:
            pem = self.private_key_pem()
        except OSError:
            pem = None  # an unreadable PRIVATE_KEY_PATH is reported where it is used
        values.append(pem)
        for url in (self.database_url, self.queue_url):
            password = urlsplit(url).password if url else None
            # Only a real one: a development default (`postgres`) would be redacted
            # from every text that names the database, and refuse every such push.
            values.append(password if password and looks_secret(password) else None)
        return [value for value in dict.fromkeys(values) if value]

    def missing_app_settings(self) -> list[str]:
        """One line per GitHub App setting still needed before webhooks can be served."""
        missing = self.missing_app_credentials()
        if self.webhook_secret is None:
            missing.append("WEBHOOK_SECRET: the webhook secret you set on the App's settings page")
        return missing

    def missing_app_credentials(self) -> list[str]:
        """What a worker needs to act as the App (it never sees webhooks, so no secret)."""
        missing = []
        if self.app_id is None:
            missing.append("APP_ID: the App ID shown on the GitHub App's settings page")
        if self.private_key is None and self.private_key_path is None:
            missing.append(
                "PRIVATE_KEY or PRIVATE_KEY_PATH: generate a private key on the App's "
                "settings page and give its PEM text or file path"
            )
        elif self.private_key_path is not None and not self.private_key_path.is_file():
            missing.append(f"PRIVATE_KEY_PATH: no file at {self.private_key_path}")
        return missing

    def sandbox_limits(self) -> ResourceLimits:
        """The sandbox's limits: the defaults, with the worktree growth this setting allows
        (the watch's allowance where worktrees stay on disk)."""
        return ResourceLimits(worktree_growth_bytes=self.worktree_growth_mb * 1024 * 1024)

    def worktree_volume(self) -> WorktreeVolume | None:
        """Each job's worktree as a capped tmpfs, where this process may mount one; the
        same growth, in bytes and entries, as `sandbox_limits`."""
        limits = self.sandbox_limits()
        return WorktreeVolume.if_available(
            limits.worktree_growth_bytes, limits.worktree_growth_entries
        )

    def sandbox_run_as(self) -> SandboxUser | None:
        """The user to drop to for sandboxed commands: only when this process is root."""
        if not running_as_host_root():
            return None
        return SandboxUser.named(self.sandbox_user)

    def check_sandbox_reach(self) -> None:
        """Refuse to run jobs that could not start: as root, sandboxed commands run as
        ROLECALL_SANDBOX_USER, which must be able to enter the data directory."""
        if self.sandbox != "bwrap":
            return
        user = self.sandbox_run_as()
        existing = self.data_dir.absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if user is not None and (blocked := unreachable_by(existing, user)) is not None:
            raise SettingsError(
                [
                    f"ROLECALL_DATA_DIR: Rolecall runs as root, so sandboxed commands run "
                    f"as {user.name} (ROLECALL_SANDBOX_USER), who cannot enter {blocked}. "
                    f"Run `chmod o+x {blocked}`, choose a data directory others may "
                    "enter (e.g. /var/lib/rolecall), or run Rolecall as an unprivileged "
                    "user"
                ]
            )

    def refuse_unsafe(self) -> None:
        """Refuse settings that would silently weaken the trust boundary."""
        if self.sandbox == "none" and not self.allow_unsafe_sandbox:
            raise SettingsError(
                [
                    "ROLECALL_SANDBOX=none runs agent commands unconfined on this host; "
                    "set ROLECALL_ALLOW_UNSAFE_SANDBOX=true as well if you really mean it"
                ]
            )
        if self.sandbox == "bwrap":
            try:
                self.sandbox_run_as()
            except SandboxUserError as exc:
                raise SettingsError([f"ROLECALL_SANDBOX_USER: {exc}"]) from None


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def default_data_dir() -> Path:
    """`./data`; as root `/var/lib/rolecall`, which the sandbox user can enter (the
    working directory of a root shell, `/root`, is closed to everyone else)."""
    return Path("/var/lib/rolecall") if running_as_host_root() else Path("data")


def _split_list(value: str) -> list[str]:
    """Items of a comma- or whitespace-separated setting, without empty ones."""
    return [item for item in value.replace(",", " ").split() if item]


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment and `.env`, with one clear line per bad value."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except pydantic_settings.SettingsError as exc:
        # A JSON-valued variable (ROLECALL_PROVIDERS) that is not JSON; its text may hold
        # keys, so it is named but not shown.
        line = str(exc)
        if '"providers"' in line:
            line = f"ROLECALL_PROVIDERS: not valid JSON; write it like {PROVIDERS_EXAMPLE}"
        raise SettingsError([line]) from None
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            secret = any(word in name.lower() for word in ("key", "secret", "token", "provider"))
            shown = "" if secret else f" (got {error.get('input')!r})"
            lines.append(f"{name}: {error['msg']}{shown}")
        raise SettingsError(lines) from None
    settings.refuse_unsafe()
    return settings
