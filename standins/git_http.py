"""Git smart HTTP for the stand-ins, by running the real `git http-backend` as a CGI.

The GitHub stand-in serves each repository's `clone_url` through this, so Rolecall's
clones, fetches and pushes are real git protocol traffic over HTTP, with HTTP basic
auth checked by the caller before `serve_git` is reached.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path


@dataclass(frozen=True)
class GitHttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def read_request_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, de-chunked: git sends large packs with chunked encoding."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size_line = handler.rfile.readline().strip()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()  # the blank line after the last chunk
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def run_http_backend(
    project_root: Path,
    *,
    method: str,
    path_info: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    remote_user: str,
) -> GitHttpResponse:
    """Run `git http-backend` for one request and split its CGI answer."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(project_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path_info,
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": "127.0.0.1",
        # Pushes are allowed for authenticated users; the caller has checked the token.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.receivepack",
        "GIT_CONFIG_VALUE_0": "true",
    }
    if "content-encoding" in headers:
        env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"]
    if "git-protocol" in headers:
        env["GIT_PROTOCOL"] = headers["git-protocol"]
    proc = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
    )
    head, _, payload = proc.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = proc.stdout.partition(b"\n\n")
    status = 200
    out_headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            out_headers.append((name.strip(), value.strip()))
    if proc.returncode != 0 and not proc.stdout:
        return GitHttpResponse(500, [("Content-Type", "text/plain")], proc.stderr)
    return GitHttpResponse(status, out_headers, payload)


def serve_git(
    handler: BaseHTTPRequestHandler, project_root: Path, path_info: str, remote_user: str
) -> None:
    """Answer one smart-HTTP request on a stdlib handler whose auth was already checked."""
    path, _, query = path_info.partition("?")
    response = run_http_backend(
        project_root,
        method=handler.command,
        path_info=path,
        query=query,
        headers={k.lower(): v for k, v in handler.headers.items()},
        body=read_request_body(handler),
        remote_user=remote_user,
    )
    handler.send_response(response.status)
    for name, value in response.headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(response.body)))
    handler.end_headers()
    handler.wfile.write(response.body)
