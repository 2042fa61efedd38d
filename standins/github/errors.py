"""GitHub's error answers, as one exception the server turns into GitHub's JSON body.

Handlers raise instead of building responses so that every error, wherever it
happens, has GitHub's exact shape: `message`, `documentation_url`, `status` as a
string, and `errors` for 422s.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An HTTP error with GitHub's body; `headers` carry e.g. `WWW-Authenticate`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        out["status"] = str(self.status)
        return out


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def bad_credentials() -> ApiError:
    return ApiError(401, "Bad credentials")


def not_accessible() -> ApiError:
    """What GitHub answers when the token lacks a permission the endpoint needs."""
    return ApiError(403, "Resource not accessible by integration")


def validation_failed(*errors: dict[str, Any]) -> ApiError:
    return ApiError(422, "Validation Failed", errors=list(errors))
