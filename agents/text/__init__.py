"""Text that crosses a trust boundary: sanitized, redacted, capped, its hidden markup found."""
