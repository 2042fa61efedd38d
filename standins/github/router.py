"""A small regex router: which REST handler answers a method and path.

Routes are written like GitHub's docs (`/repos/{owner}/{repo}/issues/{issue_number}`);
path parameters arrive URL-decoded, so a label named `rolecall:implementer` or one
with a slash (`%2F`) reaches its handler intact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from .errors import ApiError
from .exchange import Request, Response
from .service import Service

Handler = Callable[[Service, Request, dict[str, str]], Response]


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
