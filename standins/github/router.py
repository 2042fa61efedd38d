"""A small regex router and the request/response types every REST handler sees.

Routes are written like GitHub's docs (`/repos/{owner}/{repo}/issues/{issue_number}`);
path parameters arrive URL-decoded, so a label named `rolecall:implementer` or one
with a slash (`%2F`) reaches its handler intact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from .auth import Caller
from .errors import ApiError, validation_failed

if TYPE_CHECKING:
    from .service import Service


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


Handler = Callable[["Service", Request, dict[str, str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str) -> Callable[[Handler], Handler]:
        # `{name}` is one path segment; `{name*}` may span several (branch names).
        regex = re.sub(r"\{(\w+)\*\}", r"(?P<\1>.+)", template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        pattern = re.compile(f"^{regex}/?$")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, pattern, handler))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """The handler and decoded parameters; 404 for an unknown path, like GitHub."""
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found:
                return route.handler, {k: unquote(v) for k, v in found.groupdict().items()}
        raise ApiError(404, "Not Found")


# helpers handlers share ----------------------------------------------------------------


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
