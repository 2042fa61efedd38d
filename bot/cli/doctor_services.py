"""`rolecall doctor`'s proofs of the settings that name services: the App, the webhook
secret, the model.

A setting that is present can still be wrong: a private key of another App, an App id
off by one, a model key that was revoked, a model id the provider does not know. Each
is proved the way a job would use it, with a JWT signed by PRIVATE_KEY (`GET /app`) and
one minimal request to the default model, and a failure is said in the words a job's
tracking comment would use (`bot.github.errors`, `agents.model_errors`). githubkit,
anthropic and the model client are imported only here, when `doctor` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.settings import Settings

if TYPE_CHECKING:
    from anthropic.types import MessageParam

Check = tuple[bool, str]

# The request that proves the model: a few input tokens, one output token.
_PING: list[MessageParam] = [{"role": "user", "content": "Reply with one word: ok"}]
MODEL_TIMEOUT = 30.0


def check_app(settings: Settings) -> list[Check]:
    """APP_ID and PRIVATE_KEY sign a JWT that GitHub accepts (`GET /app`)."""
    missing = settings.missing_app_credentials()
    if missing:
        return [(False, f"setting {line}") for line in missing]
    assert settings.app_id is not None
    try:
        pem = settings.private_key_pem()
    except OSError as exc:
        return [
            (
                False,
                f"github app: cannot read PRIVATE_KEY_PATH {settings.private_key_path} "
                f"({exc.strerror or type(exc).__name__}); let this user read the key file",
            )
        ]
    assert pem is not None
    from githubkit import AppAuthStrategy, GitHub
    from githubkit.cache import MemCacheStrategy
    from githubkit.exception import GitHubException

    from bot.github.errors import explain_github
    from bot.github.transport import TIMEOUT

    where = f"App {settings.app_id} at {settings.github_api_url}"
    client = GitHub(
        AppAuthStrategy(settings.app_id, pem),
        base_url=settings.github_api_url,
        timeout=TIMEOUT,
        http_cache=False,  # with the cache on, `timeout` is ignored (AGENTS.md)
        auto_retry=False,  # doctor says what GitHub answers now, without waiting minutes
        # A JWT of its own: githubkit caches JWTs by App id, and doctor proves this key.
        cache_strategy=MemCacheStrategy(),
    )
    try:
        app = client.rest.apps.get_authenticated().parsed_data
    except GitHubException as exc:
        return [(False, f"github app: {where}: {explain_github(exc)}")]
    slug = getattr(app, "slug", None) or "?"
    return [(True, f"github app: {where} is `{slug}`; GitHub accepts its PRIVATE_KEY")]


def check_webhook_secret(settings: Settings) -> Check:
    """WEBHOOK_SECRET is set: without it (or empty) every delivery is refused."""
    secret = settings.webhook_secret
    if secret is None:
        return False, (
            "setting WEBHOOK_SECRET: the webhook secret you set on the App's settings page"
        )
    if not secret.get_secret_value().strip():
        return False, (
            "setting WEBHOOK_SECRET is empty: every delivery would be refused; set it to the "
            "webhook secret on the App's settings page"
        )
    return True, (
        "webhook secret: WEBHOOK_SECRET is set (it must equal the secret on the App's "
        "settings page; a delivery signed with another is refused)"
    )


def check_model(settings: Settings) -> list[Check]:
    """ROLECALL_MODEL resolves, and its provider answers one request with the key set."""
    from agents.model_ref import ModelError, resolve_model
    from bot.providers import provider_for, provider_names

    try:
        ref = resolve_model(
            None, default=settings.model, aliases={}, providers=provider_names(settings)
        )
    except ModelError as exc:
        return [(False, f"model: ROLECALL_MODEL `{settings.model}`: {exc}")]
    anthropic_unset = settings.anthropic_api_key is None and settings.anthropic_base_url is None
    if ref.provider == "anthropic" and anthropic_unset:
        return [
            (
                False,
                "setting ANTHROPIC_API_KEY: the model API key (or ANTHROPIC_BASE_URL for a "
                "gateway that needs none)",
            )
        ]
    provider = provider_for(settings, ref.provider)
    import anthropic

    from agents.model import make_client
    from agents.model_errors import explain

    url = _shown(provider.base_url or "https://api.anthropic.com")
    try:
        client = make_client(provider, max_retries=2, timeout=MODEL_TIMEOUT)
    except ModelError as exc:
        return [(False, f"model: {exc}")]
    try:
        with client:
            client.messages.create(model=ref.id, max_tokens=1, messages=_PING)
    except anthropic.APIError as error:
        return [(False, f"model: `{ref}` (ROLECALL_MODEL) at {url}: {explain(error, ref)}")]
    return [(True, f"model: `{ref}` (ROLECALL_MODEL) answered at {url} with the key set")]


def _shown(url: str) -> str:
    """A URL without a user or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")
