"""Ansible inventories as Bosun reads them: which minions exist and how to reach them.

`load_inventory` reads an INI or YAML inventory, with the group_vars/ and host_vars/ beside it,
exactly as `ansible-inventory` would for what Bosun uses; `Inventory.minions()` gives the SSH
address of each host in the `minions` group.
"""

from bosun.inventory.addresses import HOST_KEY_POLICIES, MinionAddress
from bosun.inventory.load import load_inventory
from bosun.inventory.model import Group, Host, Inventory

__all__ = ["HOST_KEY_POLICIES", "Group", "Host", "Inventory", "MinionAddress", "load_inventory"]
