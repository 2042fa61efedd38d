"""The HTTP side every GitHub client shares: its timeout and its pooled connections.

githubkit has no default timeout; every client sets `TIMEOUT`, and turns off its HTTP
cache, with which the timeout is silently ignored (hishel 1.x). Calls go over one pooled
keep-alive connection pool per installation (and one for the App itself), kept for the
life of the process (`PooledTransport`).
"""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Idle connections are kept this long; httpcore drops one the server closed before use.
KEEPALIVE_EXPIRY = 30.0


class PooledTransport(httpx.BaseTransport):
    """One keep-alive connection pool that outlives the HTTP clients githubkit builds on it.

    Outside `with github:` githubkit builds an `httpx.Client` for every call and closes it
    afterwards: a new TCP (and TLS) connection and a reloaded CA bundle per call, about
    20x the cost of the call itself. `with github:` keeps a client, but in a ContextVar,
    so only for the thread that entered it, and huey runs jobs on several threads.
    Handed to githubkit as `transport=`, this pool is what every per-call client sends
    through; the client's `close` leaves it open, and `shutdown` (the process stopping)
    closes its connections. httpcore's pool is thread-safe.
    """

    def __init__(self) -> None:
        self._pool = httpx.HTTPTransport(
            limits=httpx.Limits(
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            )
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        """Called by each per-call client as it is closed: the pool stays open."""

    def shutdown(self) -> None:
        """Close every pooled connection (a later call would open a new one)."""
        self._pool.close()
