"""One line saying what went wrong with the model API, and what to do about it.

The person reading a failed job's tracking comment needs the cause in their terms: a
key to check, a model name to fix, an overload to wait out. An error that arrives
inside a stream that began with 200 carries its kind in `type` (`overloaded_error`),
not in the status, so it is named by that type, never as "refused (200)".
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
    key_name = "ANTHROPIC_API_KEY" if model.provider == "anthropic" else "the API key"
    where = "ANTHROPIC_BASE_URL" if model.provider == "anthropic" else "its base URL"
    if isinstance(error, anthropic.APITimeoutError):
        return f"the model API did not answer in time; check {where} and the network"
    if isinstance(error, anthropic.APIConnectionError):
        return f"could not reach the model API ({model.provider}); check {where}"
    if not isinstance(error, anthropic.APIStatusError):
        return f"the model API answered something unusable: {error.message}"
    status = error.status_code
    said = error.api_message or error.message
    if status < 400:  # an error event inside a stream that began with 200
        known = _STREAM_ERRORS.get(error.type or "")
        return known or f"the model API broke off its answer ({error.type or 'error'}): {said}"
    if status == 401:
        return f"the model API answered 401 ({said}): check {key_name}"
    if status == 403:
        return f"the model API answered 403 ({said}): the key may not have access to {model}"
    if status == 404:
        return f"the model API answered 404 ({said}): check the model name {str(model)!r}"
    if status == 413:
        return "the model API answered 413: the conversation is too large for one request"
    if status == 429:
        return f"the model API kept answering 429 (rate limited) after retries: {said}"
    if status == 529 or error.type == "overloaded_error":
        return "the model API stayed overloaded (529) after retries; try again later"
    if status >= 500:
        return f"the model API kept failing ({status}) after retries: {said}"
    return f"the model API refused the request ({status}): {said}"
