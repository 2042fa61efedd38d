"""The HTTP edge: the FastAPI app, webhook verification and the durable intake."""
