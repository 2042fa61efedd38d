"""Redaction of secret-shaped strings from everything Rolecall posts, logs or stores.

Invariant 6: whatever the agent printed, whatever a role file contained, no credential
leaves through a comment, a PR body, a commit, a transcript or a log line, and a diff
that holds one is not pushed. One module per job:

- `views`: the text with colour codes, escaped quotes and line breaks removed, mapped back;
- `formats`: credential formats (Rolecall's own, and detect-secrets' catalogue);
- `shapes` and `judging`: `NAME=value` and URL credentials, and what is a placeholder;
- `encodings`: base64 at every offset and hex, decoded;
- `folds`: how far a token found with line breaks removed really goes;
- `redactor`: all of it together, `find_secrets` and the `Redactor`.
"""

from agents.text.redact.redactor import (
    REDACTED,
    Redactor,
    find_secrets,
    secret_spans,
)

__all__ = ["REDACTED", "Redactor", "find_secrets", "secret_spans"]
