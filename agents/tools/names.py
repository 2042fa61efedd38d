"""The names of the agent's tools, written once.

The toolbox (`agents.tools.toolbox`) implements the runtime tools, role files are mapped
onto these names (`agents.roles.tools`), and a run offers a role exactly the tools it
asked for that the run can have (`agents.tools.offer`). The names are Claude Code's, so
role files and prompts written for it work unchanged.
"""

from __future__ import annotations

BASH = "Bash"
READ = "Read"
WRITE = "Write"
EDIT = "Edit"
GLOB = "Glob"
GREP = "Grep"
TODO_WRITE = "TodoWrite"

# WebFetch is host-side (agents.tools.web_fetch): offered only to a run that has the
# egress proxy, under the same allow-list and address rules (agents.tools.offer).
WEB_FETCH = "WebFetch"
# A name role files use (Copilot's `changes`) that Rolecall deliberately does not
# implement: kept on the role so `roles show`, `roles check` and the job's transcript
# can say why it is not offered (agents.tools.offer), never offered to the model.
CHANGES = "Changes"

# The tools the toolbox always implements, in the order it offers them to the model.
RUNTIME_TOOL_ORDER: tuple[str, ...] = (BASH, READ, WRITE, EDIT, GLOB, GREP, TODO_WRITE)
RUNTIME_TOOLS: frozenset[str] = frozenset(RUNTIME_TOOL_ORDER)
# Tools offered only when the run has network (the egress proxy's allow-list).
NETWORK_TOOLS: frozenset[str] = frozenset({WEB_FETCH})
