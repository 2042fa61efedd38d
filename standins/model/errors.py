"""The error a request the Messages API would refuse becomes, shared by the request checks."""

from __future__ import annotations


class RequestError(Exception):
    """A request the API would refuse, with the status and error type it would use."""

    def __init__(
        self, message: str, *, status: int = 400, error_type: str = "invalid_request_error"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
