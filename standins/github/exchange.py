"""One REST exchange as every stand-in handler sees it, and the helpers that read it.

`Request` (already authenticated into a `Caller`) and `Response` are plain data, shared by
the server, the router, `Service` and every handler; the helpers read a JSON body or a
path parameter the way GitHub does and page a list with GitHub's Link header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .auth import Caller
from .errors import ApiError, validation_failed


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    json: Any
    caller: Caller


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def body_field(request: Request, name: str, kind: type, *, required: bool = False) -> Any:
    """A JSON body field of the right type, else GitHub's 422 for it."""
    data = request.json if isinstance(request.json, dict) else {}
    value = data.get(name)
    if value is None:
        if required:
            raise validation_failed({"resource": "Issue", "code": "missing_field", "field": name})
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(
            422,
            f"Invalid request.\n\nFor 'properties/{name}', {value!r} is not a {kind.__name__}.",
        )
    return value


def int_param(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(404, "Not Found") from None


def paginate(request: Request, base_url: str, items: list[Any]) -> Response:
    """GitHub pagination: `per_page` (default 30, max 100), `page`, and a Link header."""
    try:
        per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        per_page, page = 30, 1
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    last = max(1, -(-len(items) // per_page))
    links: list[str] = []

    def link(to_page: int, rel: str) -> str:
        query = dict(request.query, page=str(to_page), per_page=str(per_page))
        return f'<{base_url}{request.path}?{urlencode(query)}>; rel="{rel}"'

    if page > 1:
        links.append(link(page - 1, "prev"))
        links.append(link(1, "first"))
    if page < last:
        links.append(link(page + 1, "next"))
        links.append(link(last, "last"))
    headers = {"Link": ", ".join(links)} if links else {}
    return Response(200, chunk, headers)


def require_body(request: Request) -> dict[str, Any]:
    if request.json is None:
        return {}
    if not isinstance(request.json, dict):
        raise ApiError(400, "Problems parsing JSON")
    return request.json
