"""The work: roles, the model client, tools, the sandbox and the git workspace.

Knows nothing of webhooks or githubkit; imports neither `bot` nor `handlers`.
"""
