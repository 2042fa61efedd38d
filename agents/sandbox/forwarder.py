"""The sandbox's side of the egress proxy: a forwarder that decides nothing.

Inside the sandbox, a small forwarder (started by the command's prologue,
`forwarder_prologue`) relays `127.0.0.1:PROXY_PORT` to the proxy's Unix socket, bound
read-only at `SANDBOX_DIR`, and `HTTPS_PROXY`/`HTTP_PROXY` point there
(`proxy_environment`). The agent can replace all of it and gain nothing: the host side
(`agents.sandbox.netproxy`) checks every CONNECT.
"""

from __future__ import annotations

import os

# Where the proxy's directory appears inside the sandbox, and the port the forwarder
# listens on there (the sandbox has its own loopback, so the port is always free).
SANDBOX_DIR = "/run/rolecall-egress"
SOCKET_NAME = "egress.sock"
PROXY_PORT = 3128

# Relays 127.0.0.1:PROXY_PORT to the proxy's socket. It decides nothing: replacing it
# gains an agent nothing, because the host side checks every CONNECT.
_FORWARDER = """
import socket, sys, threading
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    u = socket.socket(socket.AF_UNIX)
    try:
        u.connect(sys.argv[1])
    except OSError:
        c.close()
        return
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[2])))
l.listen(64)
print("ready", flush=True)
sys.stdout.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def sandbox_python() -> str | None:
    """A python3 under /usr (which the sandbox binds), for the forwarder; None if none."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def forwarder_prologue(python: str) -> tuple[str, list[str]]:
    """Shell lines that start the forwarder and wait until it listens, and their args.

    The lines read the forwarder's code from `$2`; the forwarder outlives the lines but
    not the command (it is in the sandbox's PID namespace). If it cannot start, the
    command runs anyway, without network.
    """
    socket_path = f"{SANDBOX_DIR}/{SOCKET_NAME}"
    lines = (
        f'exec 9< <(exec {python} -S -c "$2" {socket_path} {PROXY_PORT} 2>/dev/null); '
        "read -r -t 10 _ <&9; exec 9<&-; "
    )
    return lines, [_FORWARDER]


def proxy_environment() -> dict[str, str]:
    """What tools inside the sandbox read to use the proxy (both spellings, as tools differ)."""
    url = f"http://127.0.0.1:{PROXY_PORT}"
    return {
        "HTTPS_PROXY": url,
        "https_proxy": url,
        "HTTP_PROXY": url,
        "http_proxy": url,
        "ALL_PROXY": url,
        "NO_PROXY": "",
    }
