"""One line saying what went wrong with the model API, and what to do about it.

The person reading a failed job's tracking comment needs the cause in their terms: a
key to check, a model name to fix, an overload to wait out. An error that arrives
inside a stream that began with 200 carries its kind in `type` (`overloaded_error`),
not in the status, so it is named by that type, never as "refused (200)". The line
names the setting to check (ANTHROPIC_API_KEY, or the provider's entry in
ROLECALL_PROVIDERS) and the address that could not be reached; what the API said is
repeated only for a request it refused as malformed (400), never for a refused key.
"""

from __future__ import annotations

import anthropic

from agents.model_ref import ModelRef

_STREAM_ERRORS = {
    "overloaded_error": "the model API stayed overloaded after retries; try again later",
    "rate_limit_error": "the model API kept answering rate limited after retries",
    "api_error": "the model API kept failing during its answer after retries",
    "timeout_error": "the model API kept timing out during its answer after retries",
}


def explain(error: anthropic.APIError, model: ModelRef) -> str:
    """One line for a person: what the model API did, and what to check."""
    key_name, where = _settings_for(model.provider)
    if isinstance(error, anthropic.APITimeoutError):
        return f"the model API at {_origin(error)} did not answer in time; check {where}"
    if isinstance(error, anthropic.APIConnectionError) and "broke off" in error.message:
        return f"the model API at {_origin(error)} kept breaking off its answers; try again later"
    if isinstance(error, anthropic.APIConnectionError):
        return (
            f"could not reach the model API at {_origin(error)} ({_connect_reason(error)}); "
            f"check {where}"
        )
    if not isinstance(error, anthropic.APIStatusError):
        return f"the model API answered something unusable ({type(error).__name__})"
    status = error.status_code
    said = error.api_message or error.message
    if status < 400:  # an error event inside a stream that began with 200
        known = _STREAM_ERRORS.get(error.type or "")
        return known or f"the model API broke off its answer ({error.type or 'error'})"
    if status == 401:
        return f"the model API refused the key (401): check {key_name}"
    if status == 403:
        return f"the model API refused the key access to {model} (403): check {key_name}"
    if status == 404 and "model" in said.lower():
        return (
            f"the model API ({model.provider}) does not know the model `{model.id}` (404): "
            "check the model name"
        )
    if status == 404:
        return f"the model API at {_origin(error)} answered 404 (not found): check {where}"
    if status == 413:
        return "the model API answered 413: the conversation is too large for one request"
    if status == 429:
        return "the model API kept answering rate limited (429) after retries; try again later"
    if status == 529 or error.type == "overloaded_error":
        return "the model API stayed overloaded (529) after retries; try again later"
    if status >= 500:
        return f"the model API kept failing ({status}) after retries; try again later"
    return f"the model API refused the request ({status}): {said[:300]}"


def _settings_for(provider: str) -> tuple[str, str]:
    """The settings that hold the provider's key and address, as an operator writes them."""
    if provider == "anthropic":
        return "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"
    entry = f"the `{provider}` entry of ROLECALL_PROVIDERS"
    return f"the api_key of {entry}", f"the base_url of {entry}"


def _origin(error: anthropic.APIError) -> str:
    """scheme://host:port the request went to, without credentials or path."""
    url = error.request.url
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _connect_reason(error: anthropic.APIConnectionError) -> str:
    text = f"{error.message} {error.__cause__ or ''}".lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "name resolution" in text or "nodename" in text:
        return "its host name does not resolve"
    return "no connection"
