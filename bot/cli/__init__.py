"""The `rolecall` command: each subcommand, and the process roots of `serve` and `worker`."""
