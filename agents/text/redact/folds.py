"""How far a token found with line breaks removed really goes.

With line breaks removed, a token folded by a narrow terminal (`fold -w 17`, a 50-column
log) reads whole again, but so does a token at the end of a line followed by the next
line's first word, or two lines of code (`skip_auth: bool` / `_use_sigv4: bool`). A line
break is taken as a fold only when it looks like one: the line it ends is long (a
terminal folds long lines), what follows reads as more of a token
(`judging.continues_a_fold`), and the token then ends where tokens end (a blank, a
quote, a bracket, the end of a sentence), not at `:`, `=` or `(`.
"""

from __future__ import annotations

import bisect

from agents.text.redact.judging import continues_a_fold
from agents.text.redact.views import View

# A line shorter than this was not folded: terminals and `fold` break long lines.
MIN_FOLDED_LINE = 16
_ENDS_A_TOKEN = frozenset(" \t\r\n\"'`,;)]}>")


def folded_end(view: View, start: int, end: int, *, value: bool) -> int:
    """The end of the one token folded over lines that `view.text[start:end]` begins.

    A `value` (found under a secret's name) may begin on the line after its name, and
    then that break must look like a fold too (`API_KEY=` followed by `DEBUG=1` is not).
    """
    breaks = view.breaks_within(start if value else start + 1, end)
    for index, at in enumerate(breaks):
        line_start = _previous_break(view, at)
        piece_end = breaks[index + 1] if index + 1 < len(breaks) else end
        if at - line_start < MIN_FOLDED_LINE or not continues_a_fold(view.text[at:piece_end]):
            return at
    if breaks and not _ends_a_token(view, end):
        return breaks[-1]
    return end


def _previous_break(view: View, at: int) -> int:
    index = bisect.bisect_left(view.breaks, at)
    return view.breaks[index - 1] if index > 0 else 0


def _ends_a_token(view: View, end: int) -> bool:
    text = view.text
    if end >= len(text) or view.breaks_within(end, end + 1) or text[end] in _ENDS_A_TOKEN:
        return True
    if text[end] == ".":  # the end of a sentence
        return (
            end + 1 >= len(text)
            or text[end + 1].isspace()
            or bool(view.breaks_within(end + 1, end + 2))
        )
    return False
