"""What the store raises, and how an etcd reply becomes one of these errors.

Callers look only at the class: StoreUnavailable is a TemporaryError (the API answers 503, loops
requeue), everything else is a PermanentError for that request (404, 409, 410, 400). Replies are
classified by their gRPC status code, never by the text of the message.
"""

from __future__ import annotations

import json

from bosun.errors import BosunError, PermanentError, TemporaryError

# gRPC status codes etcd puts in the "code" field of its JSON error replies.
GRPC_CANCELLED = 1
GRPC_UNKNOWN = 2
GRPC_INVALID_ARGUMENT = 3
GRPC_DEADLINE_EXCEEDED = 4
GRPC_NOT_FOUND = 5
GRPC_RESOURCE_EXHAUSTED = 8
GRPC_ABORTED = 10
GRPC_OUT_OF_RANGE = 11
GRPC_UNAVAILABLE = 14

# No leader, leader changed, request timed out, too many requests, NOSPACE alarm: all of them
# clear up without a change to the request.
_TEMPORARY_CODES = frozenset({GRPC_CANCELLED, GRPC_UNKNOWN, GRPC_DEADLINE_EXCEEDED,
                              GRPC_RESOURCE_EXHAUSTED, GRPC_ABORTED, GRPC_UNAVAILABLE})


class StoreError(BosunError):
    """Base of every store error; `key` is the etcd key concerned, when there is one."""

    key: str | None = None


class NotFound(StoreError, PermanentError):
    def __init__(self, key: str) -> None:
        super().__init__(f"{key} not found")
        self.key = key


class AlreadyExists(StoreError, PermanentError):
    def __init__(self, key: str) -> None:
        super().__init__(f"{key} already exists")
        self.key = key


class Conflict(StoreError, PermanentError):
    """The object changed since the caller read it: its resourceVersion no longer matches."""

    def __init__(self, key: str, expected: str | None = None, actual: str | None = None) -> None:
        detail = f": expected resourceVersion {expected}, found {actual}" if expected else ""
        super().__init__(f"{key} was modified{detail}")
        self.key = key
        self.expected = expected
        self.actual = actual


class InvalidResourceVersion(StoreError, PermanentError):
    def __init__(self, key: str | None, value: object) -> None:
        super().__init__(f"invalid resourceVersion {value!r}" + (f" for {key}" if key else ""))
        self.key = key
        self.value = value


class Gone(StoreError, PermanentError):
    """The revision asked for was compacted away (HTTP 410 Expired): list again, then watch."""

    def __init__(self, message: str, key: str | None = None,
                 compact_revision: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.compact_revision = compact_revision


class Rejected(StoreError, PermanentError):
    """etcd refused the request as malformed or too large, or a stored value is not an object."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class LockLost(StoreError, PermanentError):
    """The lease behind a lock expired or the lock key is no longer ours: stop acting."""

    def __init__(self, key: str) -> None:
        super().__init__(f"lock {key} was lost")
        self.key = key


class StoreUnavailable(StoreError, TemporaryError):
    """etcd refused the connection, timed out, has no leader or answered 5xx: retry later."""

    def __init__(self, message: str, key: str | None = None, delay: float = 1.0) -> None:
        super().__init__(message, delay)
        self.key = key


def grpc_status(body: str | None) -> tuple[int, str] | None:
    """(code, message) of an etcd JSON error reply; None when the body is not one."""
    try:
        reply = json.loads(body) if body else None
    except ValueError:
        return None
    if not isinstance(reply, dict):
        return None
    # Unary calls answer {"error", "message", "code"}; streams write {"error": {"grpc_code", ..}}.
    nested = reply.get("error")
    if isinstance(nested, dict):
        reply = nested
    code = reply.get("code", reply.get("grpc_code"))
    if not isinstance(code, int):
        return None
    return code, str(reply.get("message") or reply.get("error") or "")


def error_from_reply(body: str | None, server_error: bool, key: str | None = None) -> StoreError:
    """The StoreError for a failed call to etcd.

    `body` is the reply (or the transport's message when there was none); `server_error` says
    the call failed on the way or with a 5xx, so without a gRPC code it is worth retrying.
    """
    status = grpc_status(body)
    where = f" ({key})" if key else ""
    if status is None:
        if server_error:
            return StoreUnavailable(f"etcd unavailable{where}: {body}", key)
        return Rejected(f"etcd rejected the request{where}: {body}", key)
    code, message = status
    if code in _TEMPORARY_CODES:
        return StoreUnavailable(f"etcd unavailable{where}: {message}", key)
    if code == GRPC_OUT_OF_RANGE:
        # Both "compacted" and "future revision" carry this code; the store only asks for
        # revisions etcd gave it, so it means compacted.
        return Gone(f"revision no longer available{where}: {message}", key)
    if code == GRPC_NOT_FOUND:
        return NotFound(key or message)
    return Rejected(f"etcd rejected the request{where}: {message}", key)
