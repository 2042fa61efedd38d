"""POST /api/github/webhooks: check a delivery, decide about it, make it durable, answer.

Every refusal happens before anything is recorded and says what to do about it, because
the person reading it is looking at "Recent Deliveries" on the App's settings page. A
202 means the delivery (and its job, if any) is committed to the ledger: see
`bot.web.intake`. The request path never talks to GitHub and never parses the whole payload
with githubkit; the handlers read the few fields a decision needs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

import msgspec

from bot.observe import log_context
from bot.observe.metrics import Metrics
from bot.store.deliveries import NewDelivery
from bot.web.delivery_rows import delivery_record, ping_record
from bot.web.intake import Intake, IntakeClosed, IntakeError, UnrecordableDelivery
from bot.web.webhook_body import UnreadableBody, read_payload
from handlers.decisions import Decision
from handlers.events import EventError

log = logging.getLogger("rolecall.webhooks")

WEBHOOK_PATH = "/api/github/webhooks"
# GitHub caps webhook payloads at 25 MB and does not deliver larger ones.
MAX_BODY_BYTES = 25 * 1024 * 1024

_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# As GitHub spells its events: lowercase words joined by "_", digits included
# ("projects_v2_item"). An event Rolecall has no handler for is recorded as ignored.
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

Decide = Callable[..., Decision]
"""`handlers.dispatch.dispatch(event_name, payload, *, bot_login) -> Decision`."""


def sign(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for `body` signed with `secret`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_matches(secrets: Sequence[bytes], body: bytes, header: str) -> bool:
    """Whether `header` signs the raw `body` with any of `secrets`, in constant time."""
    given = header.strip().encode("latin-1", "replace")
    matched = False
    for secret in secrets:
        # Check every secret (no early exit) so timing says nothing about which matched.
        matched |= hmac.compare_digest(sign(secret, body).encode(), given)
    return matched


class Refused(Exception):
    """A delivery refused with `status` and a message saying what to do."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_WANTED_HEADERS = frozenset(
    {
        b"content-type",
        b"content-length",
        b"x-github-event",
        b"x-github-delivery",
        b"x-hub-signature-256",
    }
)


def delivery_headers(raw: Sequence[tuple[bytes, bytes]]) -> tuple[dict[str, str], set[str]]:
    """The headers the endpoint reads, by lowercase name, and the names that came twice.

    A header GitHub sends once that arrives twice is refused rather than read as one of
    its copies: which copy a proxy, a framework or a reader picks differs, and two
    signatures of which "the last one wins" let a forged one override the real one.
    """
    headers: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in raw:
        if name in _WANTED_HEADERS:
            key = name.decode("latin-1")
            if key in headers:
                repeated.add(key)
            headers[key] = value.decode("latin-1")
    return headers, repeated


class WebhookEndpoint:
    """The ASGI app behind the webhook URL.

    It is the one hot path of the process (GitHub may send thousands of deliveries a
    second), so it reads the ASGI messages itself rather than going through FastAPI's
    routing, middleware and Request objects, which measured at about half the cost of a
    delivery. Everything else in the app is ordinary FastAPI.
    """

    def __init__(
        self,
        *,
        secrets: Sequence[bytes],
        decide: Decide,
        intake: Intake,
        bot_login: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.secrets = tuple(secrets)
        self.decide = decide
        self.intake = intake
        self.bot_login = bot_login
        self.metrics = metrics if metrics is not None else Metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers, repeated = delivery_headers(scope["headers"])
        delivery_id = headers.get("x-github-delivery", "")
        try:
            status, body = await self._receive(
                scope["method"], headers, repeated, delivery_id, receive
            )
            extra: Mapping[str, str] = {}
        except Refused as refused:
            shown = (
                delivery_id
                if _DELIVERY_ID.fullmatch(delivery_id) and "x-github-delivery" not in repeated
                else "-"
            )
            log.warning("delivery %s refused (%d): %s", shown, refused.status, refused.message)
            status, body, extra = refused.status, {"error": refused.message}, refused.headers
        if status >= 400:
            self.metrics.refused(status)
        payload = _encode_json(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _receive(
        self,
        method: str,
        headers: Mapping[str, str],
        repeated: set[str],
        delivery_id: str,
        receive: Receive,
    ) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            raise Refused(
                405,
                "use POST: this URL receives GitHub webhook deliveries, which are POSTed",
                {"Allow": "POST"},
            )
        if not self.secrets:
            raise Refused(
                503,
                "not configured: set WEBHOOK_SECRET to the webhook secret on the GitHub "
                "App's settings page and restart Rolecall",
            )
        _refuse_repeated(repeated)
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise Refused(
                415,
                f"Content-Type is {media_type or 'missing'}, expected application/json: set "
                "the webhook content type to application/json in the App's (or hook's) "
                "settings",
            )
        event = headers.get("x-github-event", "")
        signature = headers.get("x-hub-signature-256", "")
        for name, value in (
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery_id),
            ("X-Hub-Signature-256", signature),
        ):
            if not value:
                raise Refused(
                    400,
                    f"missing {name} header: this URL accepts GitHub webhook deliveries only "
                    "(and needs a webhook secret set on the App)",
                )
        if not _DELIVERY_ID.fullmatch(delivery_id):
            raise Refused(400, "X-GitHub-Delivery is not a delivery id (a GUID, at most 64 chars)")
        if not _EVENT_NAME.fullmatch(event):
            raise Refused(
                400, "X-GitHub-Event is not an event name (lowercase letters, digits and _)"
            )

        body = await _read_body(headers.get("content-length"), receive)
        if not signature_matches(self.secrets, body, signature):
            raise Refused(
                401,
                "signature mismatch: check that WEBHOOK_SECRET matches the secret on the "
                "GitHub App's settings page (during a rotation, put the old one in "
                "WEBHOOK_SECRET_PREVIOUS)",
            )
        try:
            payload = read_payload(body)
        except UnreadableBody as exc:
            raise Refused(400, f"{exc}; nothing was recorded") from None
        # The body and the payload are let go of before the wait for the commit (below):
        # kept, the requests waiting together hold a few MB, where each next request's
        # parsing would have reused memory still in the CPU's cache.
        del body

        # Signed by GitHub: what is logged from here on names the delivery and repository.
        with log_context.bound(delivery_id=delivery_id, repository=_repository(payload)):
            if event == "ping":
                record, ok_status = ping_record(delivery_id, payload), 200
            else:
                try:
                    decision = self.decide(event, payload, bot_login=self.bot_login)
                    record, ok_status = delivery_record(delivery_id, event, payload, decision), 202
                except EventError as exc:
                    # Signed by GitHub but lacking a field the decision needs: refused
                    # visibly, so it can be redelivered once understood, rather than
                    # silently ignored.
                    raise Refused(400, f"{exc}; nothing was recorded") from None
                except Exception:
                    log.exception("delivery %s (%s): the handlers failed", delivery_id, event)
                    return 500, {
                        "error": f"the handlers failed on this {event} delivery; nothing was "
                        "recorded. See Rolecall's log for the delivery id, then redeliver it "
                        "from the App's Recent Deliveries",
                    }
            del payload
            return await self._record(record, ok_status=ok_status)

    async def _record(self, record: NewDelivery, *, ok_status: int) -> tuple[int, dict[str, Any]]:
        try:
            recorded = await self.intake.submit(record)
        except UnrecordableDelivery as exc:
            # Not a passing outage: the same delivery would fail again, so no 503 (which
            # invites a redelivery). The intake fits every row to the ledger first, so
            # this is a bug, and the log has the traceback.
            raise Refused(
                500,
                f"the ledger refused this delivery ({exc}); nothing was recorded. This is a "
                "bug in Rolecall: please report it with the delivery id from the log",
            ) from None
        except (IntakeClosed, IntakeError) as exc:
            raise Refused(
                503,
                f"not recorded ({exc}); GitHub shows the delivery as failed: redeliver it "
                "from the App's Recent Deliveries once Rolecall is back",
            ) from None
        if recorded.duplicate:
            self.metrics.delivery(record.event, "duplicate")
            log.info("delivery %s is a redelivery; already recorded", record.id)
            return 200, {"delivery": record.id, "duplicate": True}
        self.metrics.delivery(record.event, recorded.decision)
        if recorded.job_id is not None:
            log_context.note(job_id=recorded.job_id)
        if recorded.decision in ("job", "reply") or log.isEnabledFor(logging.DEBUG):
            log.log(
                logging.INFO if recorded.job_id is not None else logging.DEBUG,
                "delivery %s (%s) %s: %s%s",
                record.id,
                record.event if record.action is None else f"{record.event}.{record.action}",
                recorded.decision,
                recorded.reason,
                "" if recorded.job_id is None else f" (job {recorded.job_id})",
            )
        body: dict[str, Any] = {"delivery": record.id, "decision": recorded.decision}
        if recorded.reason:
            body["reason"] = recorded.reason
        if recorded.job_id is not None:
            body["job_id"] = recorded.job_id
        return ok_status, body


# The answer's JSON, as compact as `json.dumps(separators=(",", ":"))` writes it (text
# outside ASCII as UTF-8 rather than \u escapes), in a tenth of the time.
_encode_json = msgspec.json.Encoder().encode


def _repository(payload: Mapping[str, Any]) -> str | None:
    """The delivery's `repository.full_name`, when it has one (for the log's context)."""
    repository = payload.get("repository")
    name = repository.get("full_name") if isinstance(repository, dict) else None
    return name if isinstance(name, str) else None


def _refuse_repeated(repeated: set[str]) -> None:
    """Refuse a delivery that repeats a header GitHub sends once (see delivery_headers)."""
    if "x-hub-signature-256" in repeated:
        raise Refused(
            401,
            "more than one X-Hub-Signature-256 header; GitHub sends exactly one, so this "
            "delivery is not from GitHub",
        )
    if repeated:
        name = min(repeated)
        shown = _HEADER_SPELLING.get(name, name)
        raise Refused(400, f"more than one {shown} header; GitHub sends exactly one")


_HEADER_SPELLING = {
    "content-type": "Content-Type",
    "content-length": "Content-Length",
    "x-github-event": "X-GitHub-Event",
    "x-github-delivery": "X-GitHub-Delivery",
}

_TOO_LARGE = (
    f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB, larger than any GitHub "
    "delivery; nothing was recorded"
)


async def _read_body(declared: str | None, receive: Receive) -> bytes:
    """The raw body, refused past MAX_BODY_BYTES without ever holding more than that.

    A declared Content-Length is checked before anything is read; a chunked body is
    counted as it arrives.
    """
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(400, "Content-Length is not a number")
        digits = declared.lstrip("0")
        if len(digits) > len(str(MAX_BODY_BYTES)) or int(digits or "0") > MAX_BODY_BYTES:
            raise Refused(413, _TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, _TOO_LARGE)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
