"""Faults on demand: GitHub misbehaving exactly when a test says so.

Tests never patch clients; they tell the stand-in "the next POST to /pulls answers
403 with retry-after" or "the next GET stalls for 5 s", and the real SDK meets it
over real HTTP. Rules match the method and the whole path (`re.fullmatch`) and are
consumed in the order they were added.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .errors import DOCS

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you "
    "try again. If you reach out to GitHub Support for help, please include the "
    "request ID."
)


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    failure: Failure | None = None
    stall: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and (
            self.method in ("*", method.upper()) and bool(self.pattern.fullmatch(path))
        )


def default_body(status: int, headers: dict[str, str]) -> dict[str, Any]:
    """GitHub's body for a fault: the secondary-rate-limit text when it is one."""
    lowered = {k.lower() for k in headers}
    if status == 429 or (status == 403 and "retry-after" in lowered):
        message = SECONDARY_MESSAGE
    else:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Error"
    return {
        "message": message,
        "documentation_url": DOCS,
        "status": str(status),
    }


@dataclass
class Faults:
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        headers = dict(headers or {})
        failure = Failure(
            status, headers, body if body is not None else default_body(status, headers)
        )
        with self._lock:
            self._rules.append(_Rule(method.upper(), re.compile(path_regex), times, failure))

    def stall_next(self, method: str, path_regex: str, *, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._rules.append(_Rule(method.upper(), re.compile(path_regex), times, stall=seconds))

    def take(self, method: str, path: str) -> tuple[float, Failure | None]:
        """Consume the stall and the failure that apply to this request, if any."""
        stall = 0.0
        failure: Failure | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.failure is None and stall == 0.0:
                    stall = rule.stall
                    rule.remaining -= 1
                elif rule.failure is not None and failure is None:
                    failure = rule.failure
                    rule.remaining -= 1
            self._rules = [r for r in self._rules if r.remaining > 0]
        return stall, failure

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
