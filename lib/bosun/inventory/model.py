"""The loaded inventory, read-only: hosts with their merged variables, and the group tree.

This is what the rest of Bosun sees. `to_ansible_list` and `host_vars` print the same JSON as
`ansible-inventory --list` and `--host`, which is how the tests hold Bosun to Ansible.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bosun.errors import ConfigError
from bosun.inventory.addresses import MinionAddress, minion_address
from bosun.inventory.builder import Where

MINIONS_GROUP = "minions"


@dataclass(frozen=True)
class Host:
    """One inventory host: its fully merged variables and every group it is in (but `all`)."""

    name: str
    vars: Mapping[str, Any] = field(hash=False)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """One group: the hosts listed in it directly and its child groups, in file order."""

    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()


class Inventory:
    """Hosts (in file order) and groups of one inventory file."""

    def __init__(
        self,
        path: str,
        hosts: Mapping[str, Host],
        groups: Mapping[str, Group],
        origins: Mapping[str, Mapping[str, Where]],
    ) -> None:
        self.path = path
        self.hosts: Mapping[str, Host] = MappingProxyType(dict(hosts))
        self.groups: Mapping[str, Group] = MappingProxyType(dict(groups))
        self._origins = origins

    def group_hosts(self, group: str) -> list[Host]:
        """Hosts of `group` and of its child groups, in file order.

        Raises ConfigError if the inventory has no such group.
        """
        if group not in self.groups:
            raise ConfigError(f"no group {group!r} in the inventory", self.path)
        if group == "all":
            return list(self.hosts.values())
        return [host for host in self.hosts.values() if group in host.groups]

    def host_vars(self, name: str) -> dict:
        """A copy of the variables of host `name`, as `ansible-inventory --host NAME` prints them.

        Raises ConfigError if the inventory has no such host.
        """
        if name not in self.hosts:
            raise ConfigError(f"no host {name!r} in the inventory", self.path)
        return copy.deepcopy(dict(self.hosts[name].vars))

    def to_ansible_list(self) -> dict:
        """The same structure as `ansible-inventory -i FILE --list`."""
        listing: dict[str, Any] = {}
        self._list_group("all", listing, set())
        hostvars = {name: self.host_vars(name) for name, host in self.hosts.items() if host.vars}
        listing["_meta"] = {"hostvars": hostvars, "profile": "inventory_legacy"}
        return listing

    def _list_group(self, name: str, listing: dict[str, Any], seen: set[str]) -> None:
        seen.add(name)
        group = self.groups[name]
        entry: dict[str, list[str]] = {}
        # `all` holds every host, so Ansible lists only its children.
        if name != "all" and group.hosts:
            entry["hosts"] = list(group.hosts)
        if group.children:
            entry["children"] = list(group.children)
        # Ansible leaves empty groups out, even though their parents still name them.
        if entry:
            listing[name] = entry
        for child in group.children:
            if child not in seen:
                self._list_group(child, listing, seen)

    def minions(self) -> list[MinionAddress]:
        """How to reach each host of the `minions` group, in file order.

        Raises ConfigError if there is no `minions` group, it has no hosts, or a host's
        connection variables are malformed.
        """
        if MINIONS_GROUP not in self.groups:
            raise ConfigError(f"the inventory has no [{MINIONS_GROUP}] group", self.path)
        hosts = self.group_hosts(MINIONS_GROUP)
        if not hosts:
            raise ConfigError(f"the [{MINIONS_GROUP}] group has no hosts", self.path)
        return [minion_address(host.name, host.vars, self._origins[host.name]) for host in hosts]
