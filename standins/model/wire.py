"""Writing the Messages API's answers on the wire: JSON, errors, and server-sent events.

Each response carries a `request-id` header as the API's do; streams are sent chunked,
one SSE event per flushed chunk, so the SDK sees events as they come (and a stall
between them is a real one).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

from standins.model.messages import new_id, stream_events

# The error type and message the API sends with each status.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    429: "This request would exceed the rate limit for your organization. Please try again later.",
    500: "Internal server error",
    529: "Overloaded",
}


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: Mapping[str, Any],
    request_id: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("request-id", request_id)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


def send_error(
    handler: BaseHTTPRequestHandler,
    status: int,
    error_type: str,
    message: str,
    request_id: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    payload = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
    send_json(handler, status, payload, request_id, headers)


def send_stream(
    handler: BaseHTTPRequestHandler,
    message: dict[str, Any],
    request_id: str,
    stall: float,
    wait: Callable[[float], object],
) -> None:
    """`message` streamed as the API streams it; `wait(stall)` after the first event."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("request-id", request_id)
    handler.end_headers()
    for index, event in enumerate(stream_events(message)):
        write_event(handler, event)
        if index == 0 and stall:
            wait(stall)
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def send_broken_stream(
    handler: BaseHTTPRequestHandler,
    body: Mapping[str, Any],
    error_type: str,
    message: str,
    request_id: str,
) -> None:
    """A stream that starts a message, then fails with an error event, as the API can."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("request-id", request_id)
    handler.end_headers()
    start = {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model", ""),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 1},
    }
    error = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
    for event in ({"type": "message_start", "message": start}, error):
        write_event(handler, event)
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def write_event(handler: BaseHTTPRequestHandler, event: Mapping[str, Any]) -> None:
    """One server-sent event, as one HTTP chunk, flushed so the client sees it now."""
    frame = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
    handler.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
    handler.wfile.flush()


def client_gone(handler: BaseHTTPRequestHandler) -> bool:
    """Whether the client closed its end while we stalled (it timed out and left)."""
    sock = handler.connection
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:
        return True
