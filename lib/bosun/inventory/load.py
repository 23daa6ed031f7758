"""load_inventory: read one inventory file, apply Ansible's rules, merge each host's variables.

The format follows the file name, as Ansible's plugins choose: .yml/.yaml/.json are YAML, a
name without extension is YAML if it reads as a YAML mapping and INI otherwise, the rest INI.
"""

from __future__ import annotations

import copy
import os
from types import MappingProxyType

import yaml

from bosun.errors import ConfigError
from bosun.inventory.addresses import check_bosun_vars
from bosun.inventory.builder import Draft, DraftHost, VarLayer
from bosun.inventory.ini import read_ini
from bosun.inventory.model import Group, Host, Inventory
from bosun.inventory.varsdirs import VarsDirs
from bosun.inventory.yamldoc import YamlDocument
from bosun.inventory.yamlform import read_yaml_inventory

_YAML_EXTENSIONS = (".yml", ".yaml", ".json")

# Variables Ansible sets itself. `ansible-inventory` leaves them out of what it prints even when
# an inventory sets them, so Bosun does too.
_ANSIBLE_INTERNAL = frozenset({
    "ansible_async_path", "ansible_collection_name", "ansible_config_file",
    "ansible_dependent_role_names", "ansible_diff_mode", "ansible_facts", "ansible_forks",
    "ansible_inventory_sources", "ansible_limit", "ansible_play_batch", "ansible_play_hosts",
    "ansible_play_hosts_all", "ansible_play_role_names", "ansible_playbook_python",
    "ansible_role_name", "ansible_role_names", "ansible_run_tags", "ansible_skip_tags",
    "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file",
    "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "hostvars",
    "playbook_dir", "play_hosts", "role_name", "role_names", "role_path", "role_uuid",
})


def load_inventory(path: str | os.PathLike) -> Inventory:
    """Read the INI or YAML inventory at `path`, with its group_vars/ and host_vars/.

    Raises ConfigError (with file and line where known) if any of them is malformed or if one
    of Bosun's own variables has a bad value.
    """
    path = os.fspath(path)
    draft = Draft(path)
    _read_source(path, draft)
    draft.finish()
    return _assemble(draft, VarsDirs(path))


def _read_source(path: str, draft: Draft) -> None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read the inventory: {error.strerror}", path) from error
    extension = os.path.splitext(path)[1]
    if extension in _YAML_EXTENSIONS:
        read_yaml_inventory(YamlDocument(path, data), draft)
    elif extension == ".toml":
        raise ConfigError("TOML inventories are not supported: use INI or YAML", path)
    elif not extension and (document := _yaml_mapping(path, data)):
        read_yaml_inventory(document, draft)
    else:
        read_ini(data, draft)


def _yaml_mapping(path: str, data: bytes) -> YamlDocument | None:
    try:
        document = YamlDocument(path, data)
    except ConfigError:
        return None  # not YAML: Ansible then tries the file as INI
    return document if isinstance(document.root, yaml.MappingNode) else None


def _assemble(draft: Draft, dirs: VarsDirs) -> Inventory:
    depth = draft.depths()
    hosts, origins = {}, {}
    for name, draft_host in draft.hosts.items():
        member_of = draft.groups_of(name) - {"all"}
        # Ansible merges shallow groups first, then by ansible_group_priority, then by name.
        ordered = sorted(member_of, key=lambda g: (depth[g], draft.groups[g].priority, g))
        merged = _merge(_layers(draft, dirs, draft_host, ordered))
        check_bosun_vars(name, merged.values, merged.origins)
        hosts[name] = Host(name, MappingProxyType(merged.values), tuple(sorted(member_of)))
        origins[name] = merged.origins
    groups = {
        group.name: Group(group.name, tuple(group.hosts), tuple(group.children))
        for group in draft.groups.values()
    }
    return Inventory(draft.path, hosts, groups, origins)


def _layers(draft: Draft, dirs: VarsDirs, host: DraftHost, groups: list[str]) -> list[VarLayer]:
    """A host's variable sources, lowest precedence first, in Ansible's default order.

    Inventory-file group vars (all, then each group) rank below every group_vars/ file (all,
    then each group); then the host's inventory vars, then its host_vars/ files.
    """
    layers = [draft.groups["all"].layer] + [draft.groups[group].layer for group in groups]
    layers += dirs.group_layers("all")
    for group in groups:
        layers += dirs.group_layers(group)
    return [*layers, host.layer, *dirs.host_layers(host.name)]


def _merge(layers: list[VarLayer]) -> VarLayer:
    merged = VarLayer()
    for layer in layers:
        for key, value in layer.values.items():
            if key not in _ANSIBLE_INTERNAL:
                # Deep copies: hosts must not share (and so could not change) each other's values.
                merged.set(key, copy.deepcopy(value), layer.origins[key])
    return merged
