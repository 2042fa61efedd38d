"""Runs in one process share the model API's connection, one client per provider and key."""

from __future__ import annotations

from agents.model import ModelClient, Provider
from agents.model_clients import ModelClients
from standins.model import ModelStandIn

KEY = "shared-client-key"
MODEL = "claude-sonnet-5-5"
ASK = [{"role": "user", "content": "Say hello."}]


def test_two_runs_use_one_kept_alive_connection_and_a_new_key_gets_its_own() -> None:
    clients = ModelClients()
    with ModelStandIn(api_key=KEY) as standin:
        standin.script(["Hello.", "Hello again.", "Hello with the new key."])
        first, second = (
            ModelClient(clients.client_for(Provider("gateway", standin.url, KEY))) for _ in range(2)
        )
        first.create(MODEL, "", ASK, [], 64)
        second.create(MODEL, "", ASK, [], 64)
        # The key was rotated (and the setup page stored the new one): runs send the new
        # key, on a client of their own.
        standin.api_key = "new-key"
        rekeyed = ModelClient(clients.client_for(Provider("gateway", standin.url, "new-key")))
        rekeyed.create(MODEL, "", ASK, [], 64)
        clients.close()

    one, two, three = standin.requests
    assert one.peer == two.peer, "the second run reused the first run's connection"
    assert three.peer != one.peer
    sent = [r.headers["authorization"] for r in standin.requests]  # a gateway: a bearer token
    assert sent == [f"Bearer {KEY}", f"Bearer {KEY}", "Bearer new-key"]
