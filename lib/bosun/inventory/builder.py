"""The inventory while it is being read: groups, hosts, variables, in the order Ansible keeps.

The INI and YAML readers call `add_group`, `add_host`, `add_child` and `set_var` as they meet
each entry; `finish` then applies Ansible's implicit rules (every group ends up under `all`,
hosts in no group go to `ungrouped`) so the loader can merge variables and build the model.
Every variable remembers the file and line that set it, so later checks can point there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bosun.errors import ConfigError

Where = tuple[str, "int | None"]

# Names Jinja reserves: Ansible deprecates them as variable names, Bosun refuses them.
_JINJA_WORDS = frozenset({"true", "false", "none", "True", "False", "None", "not"})


@dataclass
class VarLayer:
    """Variables from one place (a group, a host, one vars file), with where each came from."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Where] = field(default_factory=dict)

    def set(self, key: str, value: Any, where: Where) -> None:
        self.values[key] = value
        self.origins[key] = where


@dataclass
class DraftGroup:
    name: str
    layer: VarLayer = field(default_factory=VarLayer)
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    # Ansible's ansible_group_priority: breaks ties between groups at the same depth.
    priority: int = 1


@dataclass
class DraftHost:
    name: str
    layer: VarLayer = field(default_factory=VarLayer)
    groups: list[str] = field(default_factory=list)  # listed directly in these


def check_var_name(key: Any, path: str, line: int | None) -> str:
    """Return `key` if Ansible accepts it as a variable name; raise ConfigError otherwise."""
    if isinstance(key, str) and key.isidentifier() and key.isascii() and key not in _JINJA_WORDS:
        return key
    raise ConfigError(
        f"{key!r} is not a valid variable name (letters, digits and _, not starting with a digit)",
        path,
        line,
    )


class Draft:
    """Groups and hosts of one inventory file, mutable until `finish`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.groups: dict[str, DraftGroup] = {}
        self.hosts: dict[str, DraftHost] = {}
        self.add_group("all", None)
        self.add_group("ungrouped", None)
        self.add_child("all", "ungrouped", None)

    def add_group(self, name: Any, line: int | None) -> str:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"group name must be non-empty text, got {name!r}", self.path, line)
        self.groups.setdefault(name, DraftGroup(name))
        return name

    def add_host(self, name: str, group: str, port: int | None, line: int | None) -> None:
        """Add `name` to `group`; like Ansible, a `host:port` counts only where the host is new."""
        if not name:
            raise ConfigError("empty host name", self.path, line)
        if name not in self.hosts:
            self.hosts[name] = DraftHost(name)
            if port:
                self.hosts[name].layer.set("ansible_port", port, (self.path, line))
        if group not in self.hosts[name].groups:
            self.hosts[name].groups.append(group)
            self.groups[group].hosts.append(name)

    def add_child(self, parent: str, child: str, line: int | None) -> None:
        if child == "all":
            raise ConfigError("group 'all' cannot be the child of another group", self.path, line)
        if child == parent or child in self.ancestors(parent):
            raise ConfigError(
                f"making {child!r} a child of {parent!r} creates a loop of groups", self.path, line
            )
        if child not in self.groups[parent].children:
            self.groups[parent].children.append(child)
            self.groups[child].parents.append(parent)

    def set_group_var(self, group: str, key: Any, value: Any, line: int | None) -> None:
        key = check_var_name(key, self.path, line)
        if key == "ansible_group_priority":
            # Ansible consumes this one: it orders the merge and is not itself a variable.
            self.groups[group].priority = _priority(value, self.path, line)
        else:
            self.groups[group].layer.set(key, value, (self.path, line))

    def set_host_var(self, host: str, key: Any, value: Any, line: int | None) -> None:
        key = check_var_name(key, self.path, line)
        self.hosts[host].layer.set(key, value, (self.path, line))

    def ancestors(self, group: str) -> set[str]:
        found: set[str] = set()
        todo = list(self.groups[group].parents)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.groups[name].parents)
        return found

    def finish(self) -> None:
        """Apply Ansible's implicit rules once every source line has been read."""
        for group in list(self.groups.values()):
            if group.name != "all" and not group.parents:
                self.add_child("all", group.name, None)
        for host in self.hosts.values():
            member_of = self.groups_of(host.name)
            named = member_of - {"all", "ungrouped"}
            if named and "ungrouped" in host.groups:
                # Listed before any section, then in a real group: Ansible keeps the group only.
                host.groups.remove("ungrouped")
                self.groups["ungrouped"].hosts.remove(host.name)
            elif not named and "ungrouped" not in member_of:
                host.groups.append("ungrouped")
                self.groups["ungrouped"].hosts.append(host.name)

    def groups_of(self, host: str) -> set[str]:
        """Every group `host` is in, directly or through children, including `all`."""
        found = {"all", *self.hosts[host].groups}
        for name in self.hosts[host].groups:
            found |= self.ancestors(name)
        return found

    def depths(self) -> dict[str, int]:
        """Longest path from `all` to each group: Ansible merges shallow groups first."""
        depth: dict[str, int] = {}

        def measure(name: str) -> int:
            if name not in depth:
                parents = self.groups[name].parents
                depth[name] = 1 + max(map(measure, parents)) if parents else 0
            return depth[name]

        for name in self.groups:
            measure(name)
        return depth


def _priority(value: Any, path: str, line: int | None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ConfigError(f"ansible_group_priority must be a whole number, got {value!r}", path, line)
