"""The bubblewrap sandbox every agent command runs in: limits, user, seccomp, egress proxy."""
