"""Roles: the markdown files with YAML frontmatter that say what an agent is and may use."""
