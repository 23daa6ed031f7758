"""API errors as Kubernetes `Status` objects, so that kubectl and client libraries react to them.

Every error the API answers with is an ApiError: its class fixes the HTTP code and `reason`, its
constructor the message in Kubernetes' words (`pods "x" not found`). The API turns one into a
response with `to_status()`; clients of the API turn a Status back into the same class with
`from_status()`, and `kubectl_text()` prints it as kubectl would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from bosun.errors import BosunError
from bosun.objects.fielderrors import FieldError, go_quote

OPTIMISTIC_LOCK = ("the object has been modified; please apply your changes to the latest "
                   "version and try again")


def qualified(resource: str, group: str = "") -> str:
    """`pods` for the core group, `replicationcontrollers.autoscaling` for another."""
    return f"{resource}.{group}" if group else resource


def _details(name: str = "", group: str = "", kind: str = "", **extra: object) -> dict:
    details: dict = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    details.update({k: v for k, v in extra.items() if v})
    return details


class ApiError(BosunError):
    """An answer of the API other than success. `details` is None when the Status has none."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(self, message: str, details: dict | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later unchanged (throttled, timed out, 5xx)."""
        return self.code in (429, 500, 503, 504)

    def to_status(self) -> dict:
        """The exact Status body Kubernetes would send for this error."""
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": self.message, "reason": self.reason}
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.code
        return status

    @classmethod
    def _raw(cls, message: str, details: dict | None, retry_after: int | None) -> ApiError:
        error = cls.__new__(cls)
        ApiError.__init__(error, message, details, retry_after)
        return error


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message or "Unauthorized")


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"

    def __init__(self, resource: str, name: str, why: str, group: str = "") -> None:
        what = qualified(resource, group)
        subject = f"{what} {_quote(name)}" if name else what
        super().__init__(f"{subject} is forbidden: {why}",
                         _details(name=name, group=group, kind=resource))


class NotFound(ApiError):
    code = 404
    reason = "NotFound"

    def __init__(self, resource: str, name: str, group: str = "") -> None:
        super().__init__(f"{qualified(resource, group)} {_quote(name)} not found",
                         _details(name=name, group=group, kind=resource))

    @classmethod
    def path(cls) -> NotFound:
        """The 404 for a path that names nothing the server serves."""
        return cls._raw("the server could not find the requested resource", {}, None)


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"

    def __init__(self, resource: str, action: str, group: str = "") -> None:
        super().__init__(
            f"{action} is not supported on resources of kind {_quote(qualified(resource, group))}",
            _details(group=group, kind=resource))


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"

    def __init__(self, resource: str, name: str, group: str = "") -> None:
        super().__init__(f"{qualified(resource, group)} {_quote(name)} already exists",
                         _details(name=name, group=group, kind=resource))


class Conflict(ApiError):
    """A write lost a race (stale resourceVersion) or broke a precondition."""

    code = 409
    reason = "Conflict"

    def __init__(self, resource: str, name: str, why: str = OPTIMISTIC_LOCK,
                 group: str = "") -> None:
        super().__init__(
            f"Operation cannot be fulfilled on {qualified(resource, group)} {_quote(name)}: {why}",
            _details(name=name, group=group, kind=resource))


class Gone(ApiError):
    """A watch or list from a resourceVersion the store no longer holds (compacted)."""

    code = 410
    reason = "Expired"

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @classmethod
    def too_old(cls, requested: int | str, oldest: int | str) -> Gone:
        return cls(f"too old resource version: {requested} ({oldest})")


class RequestEntityTooLarge(ApiError):
    code = 413
    reason = "RequestEntityTooLarge"

    def __init__(self, message: str) -> None:
        super().__init__(f"Request entity too large: {message}")


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"

    def __init__(self, accepted: Iterable[str]) -> None:
        super().__init__("the body of the request was in an unknown format - accepted media "
                         "types include: " + ", ".join(accepted))


class Invalid(ApiError):
    """422: the object breaks validation; `causes` name every bad field."""

    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, name: str, causes: Sequence[FieldError],
                 group: str = "") -> None:
        self.causes = list(causes)
        what = f"{kind}.{group}" if group else kind
        message = f"{what} {_quote(name)} is invalid"
        unique = list(dict.fromkeys(str(c) for c in self.causes))
        if len(unique) == 1:
            message += ": " + unique[0]
        elif unique:
            message += ": [" + ", ".join(unique) + "]"
        details = _details(name=name, group=group, kind=kind)
        details["causes"] = [c.to_cause() for c in self.causes]
        super().__init__(message, details)


class TooManyRequests(ApiError):
    code = 429
    reason = "TooManyRequests"

    def __init__(self, message: str = "Too many requests, please try again later.",
                 retry_after: int = 1) -> None:
        super().__init__(message, _details(retryAfterSeconds=retry_after), retry_after)


class InternalError(ApiError):
    code = 500
    reason = "InternalError"

    def __init__(self, cause: str) -> None:
        super().__init__(f"Internal error occurred: {cause}", {"causes": [{"message": cause}]})


class ServiceUnavailable(ApiError):
    code = 503
    reason = "ServiceUnavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Timeout(ApiError):
    code = 504
    reason = "Timeout"

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(f"Timeout: {message}", _details(retryAfterSeconds=retry_after),
                         retry_after or None)


_BY_REASON: dict[str, type[ApiError]] = {
    cls.reason: cls for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, AlreadyExists, Conflict,
        Gone, RequestEntityTooLarge, UnsupportedMediaType, Invalid, TooManyRequests,
        InternalError, ServiceUnavailable, Timeout)
}
_BY_CODE = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
            405: MethodNotAllowed, 409: Conflict, 410: Gone, 413: RequestEntityTooLarge,
            415: UnsupportedMediaType, 422: Invalid, 429: TooManyRequests, 500: InternalError,
            503: ServiceUnavailable, 504: Timeout}


def from_status(status: dict, http_code: int | None = None) -> ApiError:
    """The ApiError a Status body (as received by a client) stands for; never raises."""
    status = status if isinstance(status, dict) else {}
    code = status.get("code") if isinstance(status.get("code"), int) else http_code
    cls = _BY_REASON.get(str(status.get("reason") or "")) or _BY_CODE.get(code or 500, ApiError)
    details = status.get("details") if isinstance(status.get("details"), dict) else None
    retry = (details or {}).get("retryAfterSeconds")
    error = cls._raw(str(status.get("message") or ""), details,
                     retry if isinstance(retry, int) else None)
    if isinstance(error, Invalid):
        error.causes = []
    return error


def kubectl_text(status: dict) -> str:
    """What kubectl prints for a Status (`Error from server (NotFound): pods "x" not found`)."""
    message, reason = status.get("message", ""), status.get("reason", "")
    details = status.get("details") or {}
    if reason == "Invalid" and isinstance(details, dict):
        return _invalid_text(message, details)
    if reason == "Unauthorized":
        return "error: You must be logged in to the server (Unauthorized)"
    return f"Error from server ({reason}): {message}"


def _invalid_text(message: str, details: dict) -> str:
    head = "The request is invalid"
    if details.get("kind") or details.get("name"):
        head = f"The {details.get('kind', '')} {_quote(details.get('name', ''))} is invalid"
    elif message and not details.get("causes"):
        head += ": " + message
    causes = [f"{c.get('field', '')}: {c.get('message', '')}" for c in details.get("causes", [])]
    if len(causes) == 1:
        return f"{head}: {causes[0]}"
    if causes:
        return f"{head}: \n" + "".join(f"* {c}\n" for c in causes).rstrip("\n")
    return head


def _quote(text: str) -> str:
    return go_quote(str(text))
