"""Bosun's exceptions: one base, and under it errors that say how a caller should retry.

Loops look only at the class: a TemporaryError is requeued after `delay` seconds, a
PermanentError is reported (event, exit code) and not retried until the input changes.
"""

from __future__ import annotations


class BosunError(Exception):
    """Base of every error Bosun raises on purpose."""


class TemporaryError(BosunError):
    """Worth retrying: a host unreachable, etcd between leaders, a 5xx."""

    def __init__(self, message: str, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(BosunError):
    """Retrying the same input fails the same way: a bad manifest, a missing image."""


class ConfigError(PermanentError):
    """A file the user wrote (inventory, manifest, lab settings) is malformed."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line
