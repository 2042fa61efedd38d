"""A local GitHub for Rolecall's tests and demo: REST, GraphQL, git smart HTTP, webhooks.

Driven by the real githubkit SDK and the real git CLI over real HTTP on 127.0.0.1;
see `GitHubStandIn` for the API tests use to build a world, act in it as people,
inject faults, and assert on what GitHub ends up holding.
"""

from .people import Created, CreatedSha
from .receiver import Received, WebhookReceiver
from .server import RecordedRequest
from .standin import GitHubStandIn
from .webhooks import Delivery

__all__ = [
    "Created",
    "CreatedSha",
    "Delivery",
    "GitHubStandIn",
    "Received",
    "RecordedRequest",
    "WebhookReceiver",
]
