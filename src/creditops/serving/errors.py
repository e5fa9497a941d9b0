"""The one error a scoring request can end in: an HTTP status and a message naming what is wrong."""


class RequestError(Exception):
    """A request the service refuses: `status` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
