"""Helpers shared by the per-resource validators: safe readers and checks used by several kinds.

Validators run after `schema.type_errors` found nothing, so every field present has its JSON
type; these readers still treat anything unexpected as absent, so a validator never crashes.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from bosun.objects import fielderrors as fe
from bosun.objects import names, quantity
from bosun.objects.fielderrors import FieldError

PROTOCOLS = ("TCP", "UDP")
BOSUN_PROTOCOLS_NOTE = " (Bosun's proxy and kubelet do not implement SCTP)"
# A service port is carried by each minion's proxy, TCP only in either mode (haproxy, or DNAT
# rules for tcp): a UDP service would be accepted and then never answer, so the API refuses it.
SERVICE_PROTOCOLS = ("TCP",)
SERVICE_PROTOCOLS_NOTE = " (Bosun's service proxy carries TCP only)"
IMMUTABLE = "field is immutable"
NEGATIVE = "must be greater than or equal to 0"


def as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def dicts(value: object) -> list[dict]:
    """The items of a list, with null (or malformed) items read as empty structs."""
    return [item if isinstance(item, dict) else {} for item in value] \
        if isinstance(value, list) else []


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check(path: str, value: str, rule: Callable[[str], list[str]]) -> list[FieldError]:
    """One Invalid per reason `rule` finds with `value` at `path`."""
    return [fe.invalid(path, value, msg) for msg in rule(value)]


def protocol(path: str, value: object, supported: tuple[str, ...] = PROTOCOLS,
             note: str = BOSUN_PROTOCOLS_NOTE) -> list[FieldError]:
    """A port protocol: TCP or UDP, or only `supported` (empty is defaulted to TCP before
    validation)."""
    given = text(value)
    if given and given not in supported:
        return [fe.not_supported(path, given, supported, note)]
    return []


def enum(path: str, value: object, allowed: tuple[str, ...], note: str = "") -> list[FieldError]:
    """An enumerated string; empty means "not set" (defaults fill it)."""
    given = text(value)
    return [fe.not_supported(path, given, allowed, note)] if given and given not in allowed else []


def port_number(path: str, value: object) -> list[FieldError]:
    number = integer(value) or 0
    return [fe.invalid(path, number, msg) for msg in names.port_number(number)]


def port_number_or_name(path: str, value: object) -> list[FieldError]:
    """A target port: a number 1-65535 or an IANA_SVC_NAME."""
    if isinstance(value, str):
        return check(path, value, names.port_name)
    return port_number(path, value)


def non_negative(path: str, value: object) -> list[FieldError]:
    number = integer(value)
    return [fe.invalid(path, number, NEGATIVE)] if number is not None and number < 0 else []


def parsed_quantity(path: str, value: object) -> tuple[Fraction | None, list[FieldError]]:
    """A quantity's exact value (None when it does not parse) and what is wrong with it."""
    try:
        amount = quantity.parse(value)
    except quantity.QuantityError as err:
        return None, [fe.invalid(path, value, str(err))]
    if amount < 0:
        return amount, [fe.invalid(path, quantity.canonical(value), NEGATIVE)]
    return amount, []


def immutable(path: str, new: object, old: object) -> list[FieldError]:
    return [] if new == old else [fe.invalid(path, new, IMMUTABLE)]
