"""The agent's tools (Bash, Read, Write, Edit, Glob, Grep, TodoWrite) and their guards."""
