"""One job, phase by phase: admission, the phases, their gates, and the playbooks."""
