"""Field-level validation errors, worded the way the Kubernetes API server words them.

Validators return lists of FieldError; `status.Invalid` turns such a list into a 422 Status whose
`details.causes` name each bad field. Bad values are printed as the API server prints them (Go's
`%q` for strings, `%#v` for maps and lists) so that messages read like a real cluster's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
NOT_FOUND = "FieldValueNotFound"
TYPE_INVALID = "FieldValueTypeInvalid"

_TITLES = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    NOT_FOUND: "Not found",
    TYPE_INVALID: "Invalid value",
}
# Kinds of error whose message never repeats the bad value.
_VALUELESS = {REQUIRED, FORBIDDEN, TOO_LONG}


class GoValue(str):
    """A value already rendered the way Go prints it; printed verbatim in messages."""


_OMIT = GoValue("")
_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t",
            "\v": r"\v", "\\": r"\\", '"': r"\""}


def go_quote(text: str) -> str:
    """Quote a string as Go's %q does: printable runes kept, the rest escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def go_number(value: float) -> str:
    """Print a float as Go's %v does (shortest form, exponent from 1e21)."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def go_string_map(value: Mapping[str, str] | None) -> GoValue:
    """Render a label set as Go's %#v renders a map[string]string."""
    if value is None:
        return GoValue("map[string]string(nil)")
    pairs = ", ".join(f"{go_quote(str(k))}:{go_quote(str(v))}" for k, v in sorted(value.items()))
    return GoValue("map[string]string{" + pairs + "}")


def go_string_list(value: Iterable[str] | None) -> GoValue:
    """Render a list of strings as Go's %#v renders a []string."""
    if value is None:
        return GoValue("[]string(nil)")
    return GoValue("[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}")


def render(value: object) -> str:
    """Print a bad value the way the API server's field errors print it."""
    if isinstance(value, GoValue):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_number(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return go_string_map(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return go_string_list(value)
    return go_quote(type(value).__name__)


@dataclass(frozen=True)
class FieldError:
    """One bad field: its path (`spec.containers[0].image`), a reason, the value, a detail."""

    reason: str
    field: str
    value: object = _OMIT
    detail: str = ""

    def body(self) -> str:
        """The message without the field path, as it appears in a Status cause."""
        text = _TITLES[self.reason]
        if self.reason not in _VALUELESS and self.value is not _OMIT:
            text = f"{text}: {render(self.value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def to_cause(self) -> dict:
        """The `details.causes[]` entry of a Status."""
        return {"reason": self.reason, "message": self.body(), "field": self.field}


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, field, _OMIT, detail)


def invalid(field: str, value: object, detail: str) -> FieldError:
    return FieldError(INVALID, field, value, detail)


def not_supported(field: str, value: object, supported: Iterable[str],
                  note: str = "") -> FieldError:
    """An enumerated field holding a value outside `supported` (listed as Go quotes them)."""
    detail = "supported values: " + ", ".join(go_quote(v) for v in supported)
    return FieldError(NOT_SUPPORTED, field, value, f"{detail}{note}")


def duplicate(field: str, value: object) -> FieldError:
    return FieldError(DUPLICATE, field, value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, field, _OMIT, detail)


def too_long(field: str, max_bytes: int) -> FieldError:
    return FieldError(TOO_LONG, field, _OMIT, f"may not be more than {max_bytes} bytes")


def not_found(field: str, value: object) -> FieldError:
    return FieldError(NOT_FOUND, field, value)


def type_invalid(field: str, value: object, detail: str) -> FieldError:
    return FieldError(TYPE_INVALID, field, value, detail)


def merge_unique(primary: list[FieldError], extra: Iterable[FieldError]) -> list[FieldError]:
    """`primary` then each of `extra` whose field `primary` says nothing about."""
    seen = {e.field for e in primary}
    return primary + [e for e in extra if e.field not in seen]
