"""Host entries in an inventory: `name`, `name:port`, `[v6addr]:port`, ranges like `web[01:10:2]`.

Ansible expands each host entry into inventory hostnames (and maybe a port) before anything else;
both the INI and the YAML reader call `expand_host_pattern` for that. Errors are PatternError,
which the readers turn into ConfigError with the file and line.
"""

from __future__ import annotations

import re
import string

# `[2001:db8::1]:2222`: the only way to give an IPv6 address a port.
_BRACKETED_PORT = re.compile(r"^\[([^\]]+)\]:([0-9]+)$")
# `name:2222`, where the name has no colon except inside complete [range] brackets.
_NAME_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])+):([0-9]+)$")


class PatternError(ValueError):
    """A host entry that cannot be expanded; the message says why."""


def expand_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """Inventory hostnames and port (None if not given) for one host entry.

    Raises PatternError for a malformed range.
    """
    name, port = split_port(pattern)
    return expand_ranges(name), port


def split_port(pattern: str) -> tuple[str, int | None]:
    # Ansible also checks that what is left looks like a host name or IP address, and when it
    # does not, keeps `odd_name:22` whole as a host name; Bosun splits the port off regardless.
    for form in (_BRACKETED_PORT, _NAME_PORT):
        match = form.match(pattern)
        if match:
            return match.group(1), int(match.group(2))
    return pattern, None


def expand_ranges(name: str) -> list[str]:
    """All names from `name`, expanding each `[begin:end(:step)]`, leftmost first."""
    if "[" not in name:
        return [name]
    head, rest = name.split("[", 1)
    if "]" not in rest:
        raise PatternError(f"host range in {name!r} has no closing ']'")
    spec, tail = rest.split("]", 1)
    names = []
    for item in _range_items(spec, name):
        names.extend(expand_ranges(head + item + tail))
    return names


def _range_items(spec: str, name: str) -> list[str]:
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        raise PatternError(
            f"host range [{spec}] in {name!r} must be [begin:end] or [begin:end:step]"
        )
    begin, end = bounds[0] or "0", bounds[1]
    if not end:
        raise PatternError(f"host range [{spec}] in {name!r} has no end")
    step = _whole_number(bounds[2], spec, name) if len(bounds) == 3 else 1
    if step < 1:
        raise PatternError(f"host range [{spec}] in {name!r} has a step below 1")
    if any(len(bound) == 1 and bound in string.ascii_letters for bound in (begin, end)):
        return _letters(begin, end, step, spec, name)
    return _numbers(begin, end, step, spec, name)


def _letters(begin: str, end: str, step: int, spec: str, name: str) -> list[str]:
    letters = string.ascii_letters  # a-z then A-Z, so [x:B] is a valid range, as in Ansible
    if not all(len(bound) == 1 and bound in letters for bound in (begin, end)):
        raise PatternError(f"host range [{spec}] in {name!r} mixes letters and numbers")
    first, last = letters.index(begin), letters.index(end)
    if first > last:
        raise PatternError(f"host range [{spec}] in {name!r} ends before it begins")
    return list(letters[first : last + 1 : step])


def _numbers(begin: str, end: str, step: int, spec: str, name: str) -> list[str]:
    first, last = _whole_number(begin, spec, name), _whole_number(end, spec, name)
    width = 0
    if begin.startswith("0") and len(begin) > 1:
        # A leading zero asks for zero padding, so both ends must be written to the same width.
        if len(begin) != len(end):
            raise PatternError(f"host range [{spec}] in {name!r} pads begin and end differently")
        width = len(begin)
    if first > last:
        # Ansible silently expands this to no hosts at all; an empty group is never what was meant.
        raise PatternError(f"host range [{spec}] in {name!r} ends before it begins")
    return [str(number).zfill(width) for number in range(first, last + 1, step)]


def _whole_number(text: str, spec: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise PatternError(f"host range [{spec}] in {name!r}: {text!r} is not a whole number")
    return int(text)
