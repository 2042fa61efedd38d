"""Reading a unified diff the way GitHub does for pull requests.

GitHub answers three questions from a PR's diff that Rolecall depends on: which
files changed (`/pulls/{n}/files`), whether a review comment's line is part of the
diff (else 422 "Line could not be resolved"), and the `diff_hunk`/`position` shown
with a review comment. All three come from this one parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DiffLine:
    side: str  # "LEFT" for removed, "RIGHT" for added, "BOTH" for context
    old: int | None
    new: int | None
    position: int  # GitHub's position: lines below the file's first "@@"
    hunk_start: int  # index into FilePatch.lines of this line's "@@" header


@dataclass
class FilePatch:
    filename: str
    previous_filename: str | None = None
    status: str = "modified"
    blob_sha: str = "0" * 40
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    lines: list[str] = field(default_factory=list)  # from the first "@@", GitHub's `patch`
    positions: list[DiffLine] = field(default_factory=list)

    @property
    def patch(self) -> str | None:
        return "\n".join(self.lines) if self.lines else None

    def find(self, line: int, side: str) -> DiffLine | None:
        """The diff line a review comment at (line, side) anchors to, if it is in the diff."""
        for entry in self.positions:
            if side == "RIGHT" and entry.new == line and entry.side in ("RIGHT", "BOTH"):
                return entry
            if side == "LEFT" and entry.old == line and entry.side in ("LEFT", "BOTH"):
                return entry
        return None

    def at_position(self, position: int) -> DiffLine | None:
        for entry in self.positions:
            if entry.position == position:
                return entry
        return None

    def hunk_through(self, entry: DiffLine) -> str:
        """GitHub's `diff_hunk`: the hunk header down to the commented line."""
        return "\n".join(self.lines[entry.hunk_start : entry.position + 1])


def _strip_prefix(name: str) -> str | None:
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def _names_from_diff_git(header: str) -> str:
    """`diff --git a/x b/x`: split in the middle, which is exact when both names agree."""
    rest = header[len("diff --git ") :]
    half = len(rest) // 2
    return _strip_prefix(rest[half + 1 :]) or rest


def parse(text: str) -> list[FilePatch]:
    files: list[FilePatch] = []
    current: FilePatch | None = None
    old = new = 0
    hunk_start = 0
    for raw in text.split("\n"):
        if raw.startswith("diff --git "):
            current = FilePatch(filename=_names_from_diff_git(raw))
            files.append(current)
            continue
        if current is None:
            continue
        if not current.lines and not raw.startswith("@@"):
            _header_line(current, raw)
            continue
        if raw.startswith("@@"):
            hunk_start = len(current.lines)
            spans = raw.split("@@")[1].split()
            old = int(spans[0][1:].split(",")[0])
            new = int(spans[1][1:].split(",")[0])
            current.lines.append(raw)
            continue
        if raw.startswith("\\"):  # "\ No newline at end of file"
            current.lines.append(raw)
            continue
        if not raw:
            continue
        position = len(current.lines)
        current.lines.append(raw)
        if raw[0] == "+":
            current.additions += 1
            current.positions.append(DiffLine("RIGHT", None, new, position, hunk_start))
            new += 1
        elif raw[0] == "-":
            current.deletions += 1
            current.positions.append(DiffLine("LEFT", old, None, position, hunk_start))
            old += 1
        else:
            current.positions.append(DiffLine("BOTH", old, new, position, hunk_start))
            old += 1
            new += 1
    return files


def _header_line(current: FilePatch, raw: str) -> None:
    if raw.startswith("new file mode"):
        current.status = "added"
    elif raw.startswith("deleted file mode"):
        current.status = "removed"
    elif raw.startswith("rename from "):
        current.previous_filename = raw[len("rename from ") :]
        current.status = "renamed"
    elif raw.startswith("rename to "):
        current.filename = raw[len("rename to ") :]
    elif raw.startswith("index "):
        shas = raw.split()[1].split("..")
        current.blob_sha = shas[0] if current.status == "removed" else shas[1]
    elif raw.startswith("+++ ") or (raw.startswith("--- ") and current.status == "removed"):
        name = _strip_prefix(raw[4:])
        if name:
            current.filename = name
    elif raw.startswith("Binary files"):
        current.binary = True
