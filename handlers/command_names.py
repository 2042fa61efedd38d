"""Rolecall's own slash command names, written once.

Every place that tells a built-in command from a role's name (the trigger handlers,
role routing, the config check that refuses to map a taken name, the guards, the bot's
control queue) reads these constants, so a command added or renamed here is added or
renamed everywhere.
"""

from __future__ import annotations

IMPLEMENT = "implement"  # runs a role (the default one) through the implement playbook
CI = "ci"  # lets CI run on Rolecall's pushes to a pull request (bot.jobs.ci_gate)
# Resumes a run that stopped early, on its branch (bot.jobs.playbooks.continue_run).
CONTINUE = "continue"
# Pull-request commands: each runs a role of its own on the pull request.
FIX = "fix"
REVIEW = "review"
# Control commands: each is a small job kind of its own, on the control queue
# (see bot.jobs.control); they run no role.
HELP = "help"
STATUS = "status"
CANCEL = "cancel"
RETRY = "retry"

CONTROL_COMMANDS = (HELP, STATUS, CANCEL, RETRY)
PULL_REQUEST_COMMANDS = (FIX, REVIEW)
# The commands an issue comment can give besides a role's name.
BUILTIN_COMMANDS = frozenset({IMPLEMENT, CI, CONTINUE, *CONTROL_COMMANDS})
# Commands Rolecall answers itself (and the pull-request commands), which a repository
# cannot map to a role of its own.
RESERVED_COMMANDS = frozenset({*BUILTIN_COMMANDS, *PULL_REQUEST_COMMANDS})
