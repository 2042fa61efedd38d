"""The model API clients one process shares: one per provider and key, built once.

An SDK client owns an HTTP connection pool and a TLS context; building one loads the CA
bundle (about 20 ms of CPU) and its first request opens a new connection. A job used to
build its own and close it at the end, so every job paid both before its first model
request. Clients here are kept until the process closes them, keyed by where they send
and with what key, so a key stored later (the setup page) gets a client of its own. The
SDK's clients are safe to share between threads.
"""

from __future__ import annotations

import threading

import anthropic

from agents.model import make_client
from agents.model_ref import Provider

# A run's requests are bounded by its own deadline (agents.model_retry), not by this.
_TIMEOUT = 600.0


class ModelClients:
    """SDK clients by provider, made on first use and closed together."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str | None, str | None], anthropic.Anthropic] = {}
        self._lock = threading.Lock()

    def client_for(self, provider: Provider) -> anthropic.Anthropic:
        """The shared client for `provider` (refused, as `make_client` refuses, without a key)."""
        key = (provider.name, provider.base_url, provider.api_key)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = make_client(provider, timeout=_TIMEOUT)
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
