"""Redaction of secret-shaped strings from everything Rolecall posts or logs.

Invariant 6: whatever the agent printed, whatever a role file contained, no
credential leaves through a comment, a PR body or a log line. Patterns cover the
credential formats we know; `Redactor` adds the exact values Rolecall itself holds
(installation tokens, the model key, the webhook secret) so those are caught even
when they match no pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# Each pattern matches one whole credential; keep them anchored on their prefixes
# so ordinary prose is not mangled.
SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,255}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,255}\b"),
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{10,}"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        re.DOTALL,
    ),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)


def find_secrets(text: str) -> list[str]:
    """The credential-shaped strings in `text`, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern in SECRET_PATTERNS:
        found.extend((m.start(), m.group(0)) for m in pattern.finditer(text))
    return [value for _, value in sorted(found)]


class Redactor:
    """Replaces known secret values and secret-shaped strings with a marker."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self._known = sorted({s for s in known_secrets if len(s) >= 8}, key=len, reverse=True)

    def add(self, *secrets: str) -> None:
        self._known = sorted(
            {*self._known, *(s for s in secrets if len(s) >= 8)}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self._known:
            text = text.replace(secret, REDACTED)
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text
