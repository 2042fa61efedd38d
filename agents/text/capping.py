"""Head-and-tail capping of text that goes back to the model.

Long outputs keep their beginning (what ran) and their end (how it finished), with a
marker in the middle that says how much was left out. `StreamCap` does the same for a
byte stream of unknown length in bounded memory, so an endless `yes` costs at most a
few hundred kilobytes however long it is read.
"""

from __future__ import annotations

import codecs
from collections import deque

DEFAULT_MAX_CHARS = 30_000

# UTF-8 continuation bytes: every byte that is not one of these starts a character.
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


def omission_marker(omitted: int) -> str:
    """The line that replaces the middle of a capped text."""
    return f"\n… [{omitted} characters omitted] …\n"


def cap_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """`text` unchanged if short enough, else its head and tail around a marker."""
    if len(text) <= max_chars:
        return text
    head = max_chars // 2
    tail = max_chars - head
    return text[:head] + omission_marker(len(text) - head - tail) + text[-tail:]


def count_utf8_chars(data: bytes) -> int:
    """How many characters `data` decodes to (invalid bytes count as one each)."""
    return len(data.translate(None, _CONTINUATION_BYTES))


class StreamCap:
    """Collects a byte stream in bounded memory and renders it like `cap_text`.

    Keeps the first and the last `2 * max_chars` bytes (enough for `max_chars // 2`
    characters of four bytes each on either side) and counts everything in between.
    """

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.max_chars = max_chars
        self._keep = 2 * max_chars
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_len = 0
        self.total_bytes = 0
        self.total_chars = 0

    def feed(self, chunk: bytes) -> None:
        """Add the next piece of the stream."""
        if not chunk:
            return
        self.total_bytes += len(chunk)
        self.total_chars += count_utf8_chars(chunk)
        room = self._keep - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_len += len(chunk)
        while self._tail and self._tail_len - len(self._tail[0]) >= self._keep:
            self._tail_len -= len(self._tail.popleft())

    def render(self) -> tuple[str, bool]:
        """The capped text and whether anything was left out."""
        tail = b"".join(self._tail)
        if self.total_bytes == len(self._head) + len(tail):
            text = (bytes(self._head) + tail).decode("utf-8", errors="replace")
            return cap_text(text, self.max_chars), len(text) > self.max_chars
        tail = tail[-self._keep :]
        head_text = codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(self._head))
        # The cut may have split a character: drop its orphaned continuation bytes.
        start = 0
        while start < min(len(tail), 3) and 0x80 <= tail[start] < 0xC0:
            start += 1
        tail_text = tail[start:].decode("utf-8", errors="replace")
        keep_head = self.max_chars // 2
        keep_tail = self.max_chars - keep_head
        head_text = head_text[:keep_head]
        tail_text = tail_text[-keep_tail:]
        omitted = max(self.total_chars - len(head_text) - len(tail_text), 0)
        return head_text + omission_marker(omitted) + tail_text, True
