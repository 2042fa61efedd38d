"""What an operator sees of a running Rolecall besides GitHub: metrics and log context.

`metrics` holds the per-process counters and histograms (`Metrics`, one per process,
built by `bot.cli.serve.Root` and passed down); `ledger_gauges` reads the gauges that
every process shares (jobs by state, queue depth) from the ledger at scrape time;
`log_context` says which delivery, job, repository and phase a log line belongs to.
Nothing here keeps a module-level registry: each `Metrics` has its own.
"""
