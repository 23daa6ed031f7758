"""Kubernetes resource quantities (`100m`, `64Mi`, `1Gi`, `0.5`, `1e3`): parse, compare, print.

Values are exact fractions. `canonical()` prints a quantity the way the API server stores it
(`0.5` -> `500m`, `1024Mi` -> `1Gi`); the scheduler and the kubelet use `to_millicores()` and
`to_bytes()`, which round up as Kubernetes does.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

QUANTITY_FORMAT = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
FORMAT_ERROR = f"quantities must match the regular expression '{QUANTITY_FORMAT}'"

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_SHAPE = re.compile(QUANTITY_FORMAT)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_BINARY_SUFFIX = {exp // 10: suffix for suffix, exp in _BINARY.items()}
_NANO = Fraction(1, 10**9)


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity; the message is the API server's."""


def parse_with_format(value: str | int | float) -> tuple[Fraction, str]:
    """Exact value and print format (BinarySI, DecimalSI, DecimalExponent) of a quantity.

    Raises QuantityError for anything that is not a quantity (also bool and non-finite floats).
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(FORMAT_ERROR)
    if isinstance(value, float) and not math.isfinite(value):
        raise QuantityError(FORMAT_ERROR)
    text = value if isinstance(value, str) else repr(value)
    match = _SHAPE.match(text)
    if not match:
        raise QuantityError(FORMAT_ERROR)
    number, suffix = match.groups()
    if not _NUMBER.fullmatch(number):
        raise QuantityError("unable to parse numeric part of quantity")
    amount = Fraction(number)
    if suffix in _BINARY:
        return _round_up_nano(amount * 2 ** _BINARY[suffix]), BINARY_SI
    if suffix in _DECIMAL:
        return _round_up_nano(amount * Fraction(10) ** _DECIMAL[suffix]), DECIMAL_SI
    exponent = re.fullmatch(r"[eE]([-+]?\d+)", suffix)
    if not exponent:
        raise QuantityError("unable to parse quantity's suffix")
    return _round_up_nano(amount * Fraction(10) ** int(exponent.group(1))), DECIMAL_EXPONENT


def parse(value: str | int | float) -> Fraction:
    """Exact value of a quantity (`"64Mi"` -> 67108864). Raises QuantityError."""
    return parse_with_format(value)[0]


def canonical(value: str | int | float) -> str:
    """The quantity as the API server stores it. Raises QuantityError."""
    amount, fmt = parse_with_format(value)
    return format_quantity(amount, fmt)


def to_millicores(value: str | int | float) -> int:
    """CPU quantity in millicores, rounded up (`"0.5"` -> 500, `"1"` -> 1000)."""
    return math.ceil(parse(value) * 1000)


def to_bytes(value: str | int | float) -> int:
    """Memory or storage quantity in bytes, rounded up (`"64Mi"` -> 67108864)."""
    return math.ceil(parse(value))


def format_quantity(amount: Fraction | int, fmt: str = DECIMAL_SI) -> str:
    """Print an amount in Kubernetes' canonical form for the given format."""
    amount = _round_up_nano(Fraction(amount))
    if amount == 0:
        return "0"
    if fmt == BINARY_SI and abs(amount) >= 1024 and amount.denominator == 1:
        return _binary(int(amount))
    mantissa, exponent = _decimal_parts(amount)
    if fmt == DECIMAL_EXPONENT:
        suffix = f"e{exponent}" if exponent else ""
    else:
        suffix = _DECIMAL_SUFFIX.get(exponent, f"e{exponent}")
    return f"{mantissa}{suffix}"


def _binary(amount: int) -> str:
    power = 0
    while power < 6 and amount % 1024 == 0:
        amount //= 1024
        power += 1
    return f"{amount}{_BINARY_SUFFIX[power]}"


def _decimal_parts(amount: Fraction) -> tuple[int, int]:
    """Integer mantissa and exponent (a multiple of 3) with as few trailing zeros as allowed."""
    exponent = -9
    mantissa = int(amount * 10**9)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def _round_up_nano(amount: Fraction) -> Fraction:
    """Kubernetes keeps nine decimal places and rounds away from zero beyond them."""
    scaled = amount / _NANO
    if scaled.denominator == 1:
        return amount
    whole = math.ceil(scaled) if scaled > 0 else math.floor(scaled)
    return whole * _NANO
