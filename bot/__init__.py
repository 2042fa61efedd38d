"""Rolecall's process and GitHub edge: settings, app, webhooks, queue, ledger, worker, CLI."""
