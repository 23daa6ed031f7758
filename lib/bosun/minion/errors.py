"""Errors raised at the minion door, each naming the host and what failed.

They sit under bosun.errors' retry classes so loops need no knowledge of SSH or Docker:
an unreachable minion is temporary, a host key or auth problem is permanent until fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

from bosun.errors import BosunError, PermanentError, TemporaryError


class HostKeyError(PermanentError):
    """The minion's SSH host key could not be trusted; nothing was sent to it."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


class UnknownHostKey(HostKeyError):
    """known_hosts has no key for the minion and the policy does not accept new ones."""


class ChangedHostKey(HostKeyError):
    """known_hosts holds a different key for the minion: possibly someone in the middle."""

    def __init__(self, message: str, host: str, expected: str, offered: str) -> None:
        super().__init__(message, host)
        self.expected = expected
        self.offered = offered


class MinionAuthError(PermanentError):
    """The minion refused our key, or the key file could not be read."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


class MinionUnreachable(TemporaryError):
    """No SSH connection to the minion (refused, timed out, dropped and reconnect failed)."""

    def __init__(self, message: str, host: str, delay: float = 5.0) -> None:
        super().__init__(message, delay)
        self.host = host


class RemoteCommandError(BosunError):
    """A command ran on the minion and exited non-zero.

    Whether it is worth retrying depends on the command, so callers classify by `exit_code`.
    """

    def __init__(
        self, host: str, argv: Sequence[str], exit_code: int, stderr: bytes | str
    ) -> None:
        text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
        tail = text.strip().splitlines()[-1:] or ["(no stderr)"]
        super().__init__(f"{host}: {list(argv)!r} exited {exit_code}: {tail[0]}")
        self.host = host
        self.argv = list(argv)
        self.exit_code = exit_code
        self.stderr = stderr


class CommandTimeout(TemporaryError):
    """A command did not finish in time; it may still be running on the minion."""

    def __init__(self, host: str, argv: Sequence[str], timeout: float) -> None:
        super().__init__(
            f"{host}: {list(argv)!r} did not finish within {timeout:g} s "
            "(it may still be running there)",
            delay=timeout,
        )
        self.host = host
        self.argv = list(argv)
        self.timeout = timeout


class RemoteFileError(BosunError):
    """Reading or writing a file on the minion over SFTP failed."""

    def __init__(self, host: str, path: str, what: str, reason: str) -> None:
        super().__init__(f"{host}: {what} {path} failed: {reason}")
        self.host = host
        self.path = path


class DockerAPIError(BosunError):
    """The minion's Docker daemon answered an API call with an error status."""

    def __init__(
        self, host: str, operation: str, status_code: int | None, explanation: str
    ) -> None:
        code = "" if status_code is None else f" ({status_code})"
        super().__init__(f"{host}: docker {operation} failed{code}: {explanation}")
        self.host = host
        self.operation = operation
        self.status_code = status_code
        self.explanation = explanation


class DockerNotFound(DockerAPIError):
    """The Docker object (container, image) does not exist on the minion."""


class FactsError(PermanentError):
    """The minion's answer lacked a fact Bosun needs, or held one it cannot read."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: facts: {message}")
        self.host = host


class MinionTimeout(TemporaryError):
    """A fleet-wide call got no answer from this minion in time; its connection was dropped."""

    def __init__(self, message: str, host: str, timeout: float) -> None:
        super().__init__(message, delay=timeout)
        self.host = host
        self.timeout = timeout
