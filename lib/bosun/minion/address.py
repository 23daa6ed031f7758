"""What bosun.minion needs from an inventory entry, and the names derived from it.

`bosun.inventory.MinionAddress` satisfies `Address`; this module does not import the inventory
so the door to the minions depends on nothing but the attributes it reads.
"""

from __future__ import annotations

import os
from typing import Protocol

HOST_KEY_POLICIES = ("strict", "accept-new")
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_PRIVATE_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


class Address(Protocol):
    """How to reach one minion over SSH (read-only)."""

    @property
    def name(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def user(self) -> str: ...
    @property
    def private_key_file(self) -> str | None: ...
    @property
    def known_hosts_file(self) -> str | None: ...
    @property
    def host_key_policy(self) -> str: ...


def label(address: Address) -> str:
    """`minion-2 (10.200.0.12:22)`: how every error names a minion."""
    return f"{address.name} ({address.host}:{address.port})"


def known_hosts_path(address: Address) -> str:
    return os.path.expanduser(address.known_hosts_file or DEFAULT_KNOWN_HOSTS)


def private_key_paths(address: Address) -> list[str]:
    """The key file to use, or the usual defaults that exist when none is set."""
    if address.private_key_file:
        return [os.path.expanduser(address.private_key_file)]
    found = [os.path.expanduser(p) for p in DEFAULT_PRIVATE_KEYS]
    return [p for p in found if os.path.exists(p)] or found[:1]
