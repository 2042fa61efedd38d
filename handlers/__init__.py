"""Pure decisions: given a parsed event, nothing, a polite refusal, or a job."""
