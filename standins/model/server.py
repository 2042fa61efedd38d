"""The Anthropic Messages API stand-in: a real HTTP server on 127.0.0.1.

The real anthropic SDK talks to it over HTTP exactly as it talks to api.anthropic.com,
so retries, timeouts, streaming and error mapping are the SDK's own. Tests tell the
stand-in what to answer (`script`, `respond_with`) and how to misbehave (`fail_next`,
`overload_for`, `stall_next`), then assert on what it was sent (`requests`).

    ms = ModelStandIn(api_key="test-key").start()
    ms.script([Turn([text("Running tests."), tool_use("Bash", {"command": "pytest"})]), "Done."])
    client = anthropic.Anthropic(api_key="test-key", base_url=ms.url)

Token counts are estimates (about four characters per token, see `accounting`), but
cache reads and writes follow the API's rules, so caching mistakes show up in usage.
This module decides what to answer; the answer's shape is `messages`, writing it on the
wire (JSON, errors, server-sent events) is `wire`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from hmac import compare_digest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from standins.git_http import read_request_body
from standins.model.accounting import PromptCache, flatten_prompt
from standins.model.messages import new_id, render_message
from standins.model.turns import Turn, TurnLike, as_turn
from standins.model.validation import RequestError, validate_request
from standins.model.window import ContextWindows, mark_overrun, within
from standins.model.wire import (
    ERROR_MESSAGES,
    ERROR_TYPES,
    client_gone,
    send_broken_stream,
    send_error,
    send_json,
    send_stream,
)

MESSAGES_PATH = "/v1/messages"

Responder = Callable[[dict[str, Any]], TurnLike]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the stand-in received; `json` is None when the body was not JSON."""

    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    json: Any
    # The client's end of the connection: requests kept alive on one connection share it.
    peer: tuple[str, int] = ("", 0)


@dataclass(frozen=True)
class _Fault:
    status: int
    headers: Mapping[str, str]
    error_type: str
    message: str
    mid_stream: bool = False


@dataclass(frozen=True)
class _Stall:
    seconds: float
    mid_stream: bool


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the stand-in; HTTP/1.1 so the SDK can keep connections."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.server.standin._handle(self)

    def do_GET(self) -> None:
        self.server.standin._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on `requests`, not on a log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: ModelStandIn) -> None:
        super().__init__(address, _Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timeout tests do) is not an error worth a traceback."""


class ModelStandIn:
    """A scripted Anthropic Messages API on a random local port."""

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        min_cacheable_tokens: int = 1024,
        host: str = "127.0.0.1",
        context_windows: Mapping[str, int] | None = None,
        default_context_window: int = 200_000,
        models: Collection[str] | None = None,
    ) -> None:
        self.api_key = api_key
        # The model ids it serves; any other is a 404 `not_found_error`, as the API answers
        # a model it does not know. None serves every id (most tests name their own).
        self.models: frozenset[str] | None = frozenset(models) if models is not None else None
        self._host = host
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._clock_offset = 0.0
        self._cache = PromptCache(min_cacheable_tokens=min_cacheable_tokens, clock=self._now)
        # Each model's context window (standins.model.window); tests may set their own.
        self.windows = ContextWindows(context_windows, default=default_context_window)
        self._turns: deque[TurnLike] = deque()
        self._responder: Responder | None = None
        self._faults: deque[_Fault] = deque()
        self._stalls: deque[_Stall] = deque()
        self._storm: tuple[float, _Fault] | None = None  # (until, fault), stand-in clock
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ModelStandIn:
        """Bind a random port and serve in a background thread."""
        if self._server is not None:
            return self
        self._released.clear()
        self._server = _Server((self._host, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="model-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled responses are released so no thread is left waiting."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> ModelStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to hand the SDK (`base_url=` or ANTHROPIC_BASE_URL)."""
        if self._server is None:
            raise RuntimeError("the model stand-in is not started; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- what tests tell it ------------------------------------------------------------

    def script(self, turns: Iterable[TurnLike]) -> None:
        """Queue assistant turns, answered one per request, in order."""
        with self._lock:
            self._turns.extend(turns)

    def respond_with(self, responder: Responder | None) -> None:
        """Answer with `responder(request_json)` once the scripted turns are used up."""
        with self._lock:
            self._responder = responder

    def fail_next(
        self,
        status: int = 429,
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        error_type: str | None = None,
        message: str | None = None,
        mid_stream: bool = False,
    ) -> None:
        """Answer the next `times` requests with an API error of this status.

        With `mid_stream=True` a streaming request gets a 200, `message_start`, then an
        `error` event carrying the error body, as the API does when it fails after the
        stream began (the SDK does not retry those). Faults never use a scripted turn.
        """
        fault = _Fault(
            status=status,
            headers=dict(headers or {}),
            error_type=error_type or ERROR_TYPES.get(status, "api_error"),
            message=message or ERROR_MESSAGES.get(status, f"Error {status}"),
            mid_stream=mid_stream,
        )
        with self._lock:
            self._faults.extend([fault] * times)

    def overload_for(self, seconds: float, *, headers: Mapping[str, str] | None = None) -> None:
        """Answer every request with 529 `overloaded_error` for the next `seconds`.

        A storm, as the API has them: timed, not counted, so it lasts however often the
        client asks. `advance` moves its end closer without waiting.
        """
        fault = _Fault(529, dict(headers or {}), ERROR_TYPES[529], ERROR_MESSAGES[529])
        with self._lock:
            self._storm = (self._now() + seconds, fault)

    def stall_next(self, seconds: float, *, times: int = 1, mid_stream: bool = False) -> None:
        """Hold the next `times` responses for `seconds` before answering.

        By default the stall comes before the status line (a server that accepted the
        request and went quiet); with `mid_stream=True` a streaming response stalls after
        `message_start`, which exercises the client's read timeout between events. A
        stalled request whose client has hung up is dropped without using a turn.
        """
        with self._lock:
            self._stalls.extend([_Stall(seconds, mid_stream)] * times)

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock forward, to expire prompt-cache entries without waiting."""
        with self._lock:
            self._clock_offset += seconds

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, faults and refusals included."""
        with self._lock:
            return list(self._requests)

    @property
    def pending_turns(self) -> int:
        with self._lock:
            return len(self._turns)

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    # -- serving -----------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        request_id = new_id("req_")
        try:
            recorded = self._record(handler)
            self._serve(handler, recorded, request_id)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
        except Exception as exc:  # a bug in the stand-in: say so to the client and the test
            self.errors.append(exc)
            with contextlib.suppress(OSError):
                send_error(
                    handler,
                    500,
                    "api_error",
                    f"model stand-in failed: {exc!r}",
                    request_id,
                    headers={"x-should-retry": "false"},
                )

    def _record(self, handler: _Handler) -> RecordedRequest:
        raw = read_request_body(handler) if handler.command == "POST" else b""
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        recorded = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=raw,
            json=parsed,
            peer=(str(handler.client_address[0]), int(handler.client_address[1])),
        )
        with self._lock:
            self._requests.append(recorded)
        return recorded

    def _serve(self, handler: _Handler, recorded: RecordedRequest, request_id: str) -> None:
        if handler.command != "POST" or recorded.path.split("?")[0] != MESSAGES_PATH:
            send_error(handler, 404, "not_found_error", f"Not found: {recorded.path}", request_id)
            return
        auth_problem = self._auth_problem(recorded.headers)
        if auth_problem is not None:
            send_error(handler, 401, "authentication_error", auth_problem, request_id)
            return

        with self._lock:
            stall = self._stalls.popleft() if self._stalls else None
        body = recorded.json if isinstance(recorded.json, dict) else None
        streaming = bool(body and body.get("stream"))
        if stall is not None and not (stall.mid_stream and streaming):
            self._released.wait(stall.seconds)
            if client_gone(handler):
                handler.close_connection = True
                return

        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault is None and self._storm is not None and self._now() < self._storm[0]:
                fault = self._storm[1]
        if fault is not None and fault.mid_stream and streaming and body is not None:
            send_broken_stream(handler, body, fault.error_type, fault.message, request_id)
            return
        if fault is not None:
            send_error(
                handler,
                fault.status,
                fault.error_type,
                fault.message,
                request_id,
                headers=fault.headers,
            )
            return

        try:
            if "anthropic-version" not in recorded.headers:
                raise RequestError("anthropic-version: header is required")
            if body is None:
                raise RequestError("There was an error parsing the body: expected a JSON object")
            validate_request(body)
            if self.models is not None and body["model"] not in self.models:
                raise RequestError(
                    f"model: {body['model']}", status=404, error_type="not_found_error"
                )
            room = self.windows.room(body)
        except RequestError as error:
            send_error(handler, error.status, error.error_type, error.message, request_id)
            return

        turn = self._next_turn(body)
        if turn is None:
            send_error(
                handler,
                500,
                "api_error",
                "model stand-in: no scripted turn left and no responder set",
                request_id,
                headers={"x-should-retry": "false"},
            )
            return

        with self._lock:
            prompt = self._cache.account(body["model"], flatten_prompt(body))
        message = render_message(turn, within(body, room), prompt)
        mark_overrun(message, body, room)
        if streaming:
            mid_stall = stall.seconds if stall is not None and stall.mid_stream else 0.0
            send_stream(handler, message, request_id, mid_stall, self._released.wait)
        else:
            send_json(handler, 200, message, request_id)

    def _next_turn(self, body: dict[str, Any]) -> Turn | None:
        """The next scripted turn, else the responder's answer (called without the lock,
        so a responder may look at `requests`)."""
        with self._lock:
            if self._turns:
                return as_turn(self._turns.popleft())
            responder = self._responder
        if responder is not None:
            return as_turn(responder(body))
        return None

    def _auth_problem(self, headers: Mapping[str, str]) -> str | None:
        offered = headers.get("x-api-key")
        authorization = headers.get("authorization", "")
        if offered is None and authorization.lower().startswith("bearer "):
            offered = authorization[len("bearer ") :].strip()
        if not offered:
            return "x-api-key header is required"
        if not compare_digest(offered.encode(), self.api_key.encode()):
            return "invalid x-api-key"
        return None


__all__ = ["MESSAGES_PATH", "ModelStandIn", "RecordedRequest", "Responder"]
