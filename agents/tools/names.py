"""The names of the agent's tools, written once.

The toolbox (`agents.tools.toolbox`) implements the runtime tools, role files are mapped
onto these names (`agents.roles.tools`), and the worker grants a role the runtime tools it
asked for (`RUNTIME_TOOLS`). The names are Claude Code's, so role files and prompts
written for it work unchanged.
"""

from __future__ import annotations

BASH = "Bash"
READ = "Read"
WRITE = "Write"
EDIT = "Edit"
GLOB = "Glob"
GREP = "Grep"
TODO_WRITE = "TodoWrite"

# Names a role may be granted that the toolbox does not implement (yet): kept on the
# role so the runtime can decide, never offered to the model.
CHANGES = "Changes"  # a read-only view of the worktree's diff
WEB_FETCH = "WebFetch"  # only usable when the repository's config allows network

# The tools the toolbox really implements, in the order it offers them to the model.
RUNTIME_TOOL_ORDER: tuple[str, ...] = (BASH, READ, WRITE, EDIT, GLOB, GREP, TODO_WRITE)
RUNTIME_TOOLS: frozenset[str] = frozenset(RUNTIME_TOOL_ORDER)
