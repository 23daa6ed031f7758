"""Variables from the group_vars/ and host_vars/ folders beside the inventory file.

For a group or host NAME, Ansible takes the first of NAME, NAME.yml, NAME.yaml, NAME.json that
exists there; if it is a folder, every YAML/JSON file under it, in sorted order, later files
overriding earlier ones. Each file is one VarLayer, so a bad value can be traced to its line.
"""

from __future__ import annotations

import os

import yaml

from bosun.inventory.builder import VarLayer
from bosun.inventory.yamldoc import read_yaml

# Order matters: the first name that exists wins and the others are not read at all.
_EXTENSIONS = ("", ".yml", ".yaml", ".json")


class VarsDirs:
    """The group_vars/ and host_vars/ folders of one inventory, read once per name."""

    def __init__(self, inventory_path: str) -> None:
        self.base = os.path.dirname(inventory_path)
        self._cache: dict[tuple[str, str], list[VarLayer]] = {}

    def group_layers(self, name: str) -> list[VarLayer]:
        return self._layers("group_vars", name)

    def host_layers(self, name: str) -> list[VarLayer]:
        return self._layers("host_vars", name)

    def _layers(self, folder: str, name: str) -> list[VarLayer]:
        if (folder, name) not in self._cache:
            files = find_vars_files(os.path.join(self.base, folder), name)
            self._cache[folder, name] = [layer for path in files if (layer := read_vars_file(path))]
        return self._cache[folder, name]


def find_vars_files(folder: str, name: str) -> list[str]:
    """The files holding variables for `name` in `folder`, lowest precedence first."""
    # A name like /srv/chroot would escape the folder; Ansible skips those too.
    if name.startswith(os.sep) or not os.path.isdir(folder):
        return []
    for extension in _EXTENSIONS:
        candidate = os.path.join(folder, name + extension)
        if os.path.isdir(candidate):
            return _files_under(candidate)
        if os.path.exists(candidate):
            return [candidate]
    return []


def _files_under(folder: str) -> list[str]:
    found = []
    for entry in sorted(os.listdir(folder)):
        if entry.startswith(".") or entry.endswith("~"):  # hidden files and editor backups
            continue
        path = os.path.join(folder, entry)
        extension = os.path.splitext(entry)[1]
        if os.path.isdir(path):
            if not extension:
                found.extend(_files_under(path))
        elif os.path.isfile(path) and extension in _EXTENSIONS:
            found.append(path)
    return found


def read_vars_file(path: str) -> VarLayer | None:
    """The variables in one file, or None if it is empty.

    Raises ConfigError if it is not YAML/JSON or not a mapping of names to values.
    """
    document = read_yaml(path)
    root = document.root
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode):
        if not document.value(root):  # Ansible skips a file holding only null, '' or []
            return None
        raise document.error("a vars file must be a mapping of variable names to values", root)
    layer = VarLayer()
    for key, key_node, value_node in document.pairs(root):
        if not isinstance(key, str):
            raise document.error(f"variable name {key!r} must be a string", key_node)
        layer.set(key, document.value(value_node), (path, document.line(key_node)))
    return layer if layer.values else None
