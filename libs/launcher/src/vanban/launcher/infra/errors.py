class InfraError(RuntimeError):
    """A backing server (PostgreSQL, NATS, SeaweedFS) could not be started, stopped or used.

    The message ends with the tail of the server's log when there is one, because the reason
    (a port in use, a permission problem) is almost always written there and nowhere else.
    """

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        self.log_tail = log_tail
        if log_tail:
            message = f"{message}\n--- last lines of the log ---\n{log_tail}"
        super().__init__(message)
