"""GET /metrics: this process's Prometheus metrics, for an operator's token only.

The numbers say what Rolecall works on and for whom (repositories' roles, how busy it
is, what it spends), so they are not public: a scraper presents
`Authorization: Bearer <ROLECALL_OPERATOR_TOKEN>`. Without a configured token the route
is off (404, saying how to turn it on), so no deployment exposes it by accident.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from bot.observe.metrics import CONTENT_TYPE, Metrics
from bot.settings import Settings

METRICS_PATH = "/metrics"


def metrics_page(request: Request) -> Response:
    """The metrics (200), or why not: no token configured (404), none or a wrong one (401)."""
    settings: Settings = request.app.state.settings
    expected = settings.operator_token.get_secret_value() if settings.operator_token else ""
    if not expected:
        return PlainTextResponse("set ROLECALL_OPERATOR_TOKEN to enable /metrics\n", 404)
    if not bearer_matches(request.headers.get("authorization", ""), expected):
        return PlainTextResponse(
            "present the operator token: Authorization: Bearer <ROLECALL_OPERATOR_TOKEN>\n",
            401,
            headers={"WWW-Authenticate": 'Bearer realm="rolecall"'},
        )
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


def bearer_matches(header: str, expected: str) -> bool:
    """Whether `header` is `Bearer <expected>`, compared in constant time.

    Both sides are hashed first, so the time taken says nothing about the token's
    length either.
    """
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    given_digest = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    expected_digest = hashlib.sha256(expected.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(given_digest, expected_digest)
