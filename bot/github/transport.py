"""The HTTP side every GitHub client shares: its timeout and its pooled connections.

githubkit has no default timeout; every client sets `TIMEOUT`, and turns off its HTTP
cache, with which the timeout is silently ignored (hishel 1.x). Calls go over one pooled
keep-alive connection pool per installation (and one for the App itself), kept for the
life of the process (`PooledTransport`). Each pool tells its `CallWatcher` (the process's
metrics) about every request it carries and GitHub's `x-ratelimit-remaining`.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

log = logging.getLogger("rolecall.github")

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Idle connections are kept this long; httpcore drops one the server closed before use.
KEEPALIVE_EXPIRY = 30.0


class CallWatcher(Protocol):
    """Told of every GitHub API request a pool carries (`bot.observe.metrics.Metrics`)."""

    def github_call(
        self, pool: str, method: str, status: int | None, rate_limit_remaining: int | None
    ) -> None:
        """`status` is None when no response came (a timeout, a refused connection)."""


class PooledTransport(httpx.BaseTransport):
    """One keep-alive connection pool that outlives the HTTP clients githubkit builds on it.

    Outside `with github:` githubkit builds an `httpx.Client` for every call and closes it
    afterwards: a new TCP (and TLS) connection and a reloaded CA bundle per call, about
    20x the cost of the call itself. `with github:` keeps a client, but in a ContextVar,
    so only for the thread that entered it, and huey runs jobs on several threads.
    Handed to githubkit as `transport=`, this pool is what every per-call client sends
    through; the client's `close` leaves it open, and `shutdown` (the process stopping)
    closes its connections. httpcore's pool is thread-safe.

    `pool` names it to the `watcher` (`app`, or the installation id).
    """

    def __init__(self, *, pool: str = "app", watcher: CallWatcher | None = None) -> None:
        self.pool = pool
        self._watcher = watcher
        self._pool = httpx.HTTPTransport(
            limits=httpx.Limits(
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            )
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._pool.handle_request(request)
        except Exception:
            self._tell(request, None)
            raise
        self._tell(request, response)
        return response

    def _tell(self, request: httpx.Request, response: httpx.Response | None) -> None:
        if self._watcher is None:
            return
        remaining = None if response is None else response.headers.get("x-ratelimit-remaining")
        try:
            self._watcher.github_call(
                self.pool,
                request.method,
                None if response is None else response.status_code,
                int(remaining) if remaining is not None and remaining.isdigit() else None,
            )
        except Exception:  # counting a call must never fail it
            log.exception("could not count a GitHub API call")

    def close(self) -> None:
        """Called by each per-call client as it is closed: the pool stays open."""

    def shutdown(self) -> None:
        """Close every pooled connection (a later call would open a new one)."""
        self._pool.close()
