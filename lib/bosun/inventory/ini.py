"""Reads an INI inventory into a Draft, line by line, with Ansible's rules.

Sections are `[group]` (hosts), `[group:children]` and `[group:vars]`; lines before any section
are hosts of `ungrouped`. A group named only in `:children` or `:vars` must be declared by its
own `[group]` or `[group:children]` section somewhere in the file, before or after.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from dataclasses import dataclass, field
from typing import Any

from bosun.errors import ConfigError
from bosun.inventory.builder import Draft
from bosun.inventory.patterns import PatternError, expand_host_pattern

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
_KINDS = ("hosts", "children", "vars")


@dataclass
class _Pending:
    """A group used before (or without) being declared: by `:vars`, or as somebody's child."""

    kind: str
    line: int
    parents: list[str] = field(default_factory=list)


def read_ini(data: bytes, draft: Draft) -> None:
    """Add the hosts, groups and variables of an INI inventory to `draft`.

    Raises ConfigError naming the file and line of the first malformed entry.
    """
    _IniReader(draft).read(_lines(data, draft.path))


def parse_value(text: str, path: str, line: int) -> Any:
    """An INI value as Ansible types it: a Python literal if it is one, else the text itself.

    Ansible does this both inline on host lines and in `:vars` sections (its documentation says
    `:vars` values stay strings, but `ansible-inventory` shows `port=22` there as the number 22).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    except Exception as error:  # e.g. {[1]: 2} is a literal Python cannot build
        raise ConfigError(f"cannot read value {text!r}: {error}", path, line) from error
    return _plain(value, path, line)


def _plain(value: Any, path: str, line: int) -> Any:
    """Literals as Ansible keeps them: tuples and sets become lists, odd types become text."""
    if isinstance(value, (list, tuple, set)):
        return [_plain(item, path, line) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, (str, int, float, bool)) for key in value):
            raise ConfigError(f"keys must be strings or numbers in {value!r}", path, line)
        return {key: _plain(item, path, line) for key, item in value.items()}
    if value is ...:
        return "..."
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes):
        # Ansible prints these as {"__ansible_unsafe": ...}; plain text is what was meant.
        return value.decode("utf-8", errors="replace")
    return value


def _lines(data: bytes, path: str) -> list[str]:
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        pass
    # Like Ansible, tolerate bad bytes in comment lines only (they may be in a legacy charset).
    lines = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if raw.lstrip()[:1] in (b"#", b";"):
            lines.append("")
            continue
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ConfigError(f"not UTF-8 text: {error.reason}", path, number) from error
    return lines


class _IniReader:
    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.path = draft.path
        self.group = "ungrouped"
        self.kind = "hosts"
        self.pending: dict[str, _Pending] = {}

    def read(self, lines: list[str]) -> None:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            header = _SECTION.match(line)
            if header:
                self._enter_section(header.group(1), header.group(2) or "hosts", number)
            elif line.startswith("[") and line.endswith("]"):
                raise ConfigError(
                    f"bad section header {line}: expected [group], [group:vars] or "
                    "[group:children], with no spaces",
                    self.path,
                    number,
                )
            elif self.kind == "hosts":
                self._host_line(line, number)
            elif self.kind == "vars":
                self._var_line(line, number)
            else:
                self._child_line(line, number)
        self._check_pending()

    def _enter_section(self, name: str, kind: str, number: int) -> None:
        if kind not in _KINDS:
            raise ConfigError(
                f"section [{name}:{kind}] has unknown type {kind!r} (expected children or vars)",
                self.path,
                number,
            )
        self.group, self.kind = name, kind
        if name not in self.draft.groups:
            if kind == "vars" and name not in self.pending:
                self.pending[name] = _Pending("vars", number)
            self.draft.add_group(name, number)
        if kind != "vars" and name in self.pending:
            # Declared at last: attach it to the parents that named it as a child meanwhile.
            for parent in self.pending.pop(name).parents:
                self.draft.add_child(parent, name, number)

    def _host_line(self, line: str, number: int) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as error:
            raise ConfigError(f"cannot split host line: {error}", self.path, number) from error
        if not tokens:
            return
        names, port = self._host_names(tokens[0], number)
        variables = [self._assignment(token, number) for token in tokens[1:]]
        for name in names:
            self.draft.add_host(name, self.group, port, number)
            for key, value in variables:
                self.draft.set_host_var(name, key, value, number)

    def _host_names(self, pattern: str, number: int) -> tuple[list[str], int | None]:
        try:
            names, port = expand_host_pattern(pattern)
        except PatternError as error:
            raise ConfigError(str(error), self.path, number) from error
        if pattern.endswith(":") and port is None:
            raise ConfigError(
                f"host {pattern!r} ends in ':', which is kept for a port number", self.path, number
            )
        if "---" in names:
            raise ConfigError("host '---' looks like the start of a YAML file", self.path, number)
        return names, port

    def _assignment(self, token: str, number: int) -> tuple[str, Any]:
        if "=" not in token:
            raise ConfigError(f"expected key=value after the host name, got {token!r}",
                              self.path, number)
        key, text = token.split("=", 1)
        return key, parse_value(text, self.path, number)

    def _var_line(self, line: str, number: int) -> None:
        if "=" not in line:
            raise ConfigError(f"expected key=value, got {line!r}", self.path, number)
        key, text = (part.strip() for part in line.split("=", 1))
        self.draft.set_group_var(self.group, key, parse_value(text, self.path, number), number)

    def _child_line(self, line: str, number: int) -> None:
        match = _GROUP_NAME.match(line)
        if not match:
            raise ConfigError(f"expected a group name, got {line!r}", self.path, number)
        child = match.group(1)
        if child in self.draft.groups:
            self.draft.add_child(self.group, child, number)
        else:
            self.pending.setdefault(child, _Pending("children", number)).parents.append(self.group)

    def _check_pending(self) -> None:
        for name, pending in self.pending.items():
            if pending.kind == "vars":
                problem = f"section [{name}:vars] is for a group that no [{name}] section declares"
            else:
                problem = (f"section [{pending.parents[0]}:children] names group {name!r}, "
                           f"which no [{name}] or [{name}:children] section declares")
            raise ConfigError(problem, self.path, pending.line)
