"""Reads a YAML inventory (`all: {hosts, vars, children}` and friends) into a Draft.

Top-level keys are groups; each group may have `hosts` (host pattern -> variables), `vars` and
`children` (group name -> the same structure again). As in Ansible a section may also be a
single name (`hosts: web1`). Where Ansible only warns and skips (a group that is not a mapping,
an unknown key such as `host:`), Bosun refuses the file: a typo must not drop hosts silently.
"""

from __future__ import annotations

from typing import Any

import yaml

from bosun.errors import ConfigError
from bosun.inventory.builder import Draft
from bosun.inventory.patterns import PatternError, expand_host_pattern
from bosun.inventory.yamldoc import YamlDocument

_SECTIONS = ("hosts", "vars", "children")

# (key, key node, value node); the value node is None for the `hosts: web1` shorthand.
Entry = tuple[Any, yaml.Node, "yaml.Node | None"]


def read_yaml_inventory(document: YamlDocument, draft: Draft) -> None:
    """Add the groups, hosts and variables of a YAML inventory to `draft`.

    Raises ConfigError naming the file and line of the first entry of the wrong shape.
    """
    root = document.root
    if root is None or document.is_null(root):
        raise ConfigError("the YAML inventory is empty", document.path)
    if not isinstance(root, yaml.MappingNode):
        raise document.error("a YAML inventory must be a mapping of group names", root)
    entries = document.pairs(root)
    if not entries:
        raise ConfigError("the YAML inventory is empty", document.path)
    for key, key_node, value_node in entries:
        if key == "plugin" and document.value(value_node):
            raise document.error("this is an inventory plugin configuration, which Bosun "
                                 "does not run; list hosts and groups instead", key_node)
    reader = _YamlReader(document, draft)
    for key, key_node, value_node in entries:
        reader.group(key, key_node, value_node)


class _YamlReader:
    def __init__(self, document: YamlDocument, draft: Draft) -> None:
        self.doc = document
        self.draft = draft

    def group(self, name: Any, name_node: yaml.Node, node: yaml.Node | None) -> str:
        line = self.doc.line(name_node)
        if not isinstance(name, str):
            raise self.doc.error(f"group name {name!r} must be a string", name_node)
        if node is not None and not self.doc.is_null(node):
            if not isinstance(node, yaml.MappingNode):
                raise self.doc.error(
                    f"group {name!r} must be a mapping with hosts, vars or children", node)
        self.draft.add_group(name, line)
        if isinstance(node, yaml.MappingNode):
            for key, key_node, value_node in self.doc.pairs(node):
                self._section(name, key, key_node, value_node)
        return name

    def _section(self, group: str, key: Any, key_node: yaml.Node, node: yaml.Node) -> None:
        if key not in _SECTIONS:
            raise self.doc.error(
                f"unexpected key {key!r} in group {group!r} (expected hosts, vars or children)",
                key_node)
        entries = self._entries(group, key, node)
        if key == "vars":
            for var, var_node, value_node in entries:
                value = None if value_node is None else self.doc.value(value_node)
                self.draft.set_group_var(group, var, value, self.doc.line(var_node))
        elif key == "children":
            for child, child_node, child_data in entries:
                self.group(child, child_node, child_data)
                self.draft.add_child(group, child, self.doc.line(child_node))
        else:
            for pattern, pattern_node, vars_node in entries:
                self._hosts(group, pattern, pattern_node, vars_node)

    def _entries(self, group: str, key: str, node: yaml.Node) -> list[Entry]:
        if self.doc.is_null(node):
            return []
        if isinstance(node, yaml.MappingNode):
            return list(self.doc.pairs(node))
        if isinstance(node, yaml.ScalarNode):
            value = self.doc.value(node)
            if isinstance(value, str):
                return [(value, node, None)]
        raise self.doc.error(f"{key} of group {group!r} must be a mapping", node)

    def _hosts(self, group: str, pattern: Any, node: yaml.Node, vars_node: yaml.Node | None
               ) -> None:
        line = self.doc.line(node)
        if not isinstance(pattern, str):
            raise self.doc.error(f"host {pattern!r} must be a string: put quotes around it", node)
        try:
            names, port = expand_host_pattern(pattern)
        except PatternError as error:
            raise ConfigError(str(error), self.doc.path, line) from error
        variables = self._host_vars(pattern, vars_node)
        for name in names:
            self.draft.add_host(name, group, port, line)
            for key, value, key_line in variables:
                self.draft.set_host_var(name, key, value, key_line)

    def _host_vars(self, pattern: str, node: yaml.Node | None) -> list[tuple[Any, Any, int]]:
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode):
            if not self.doc.value(node):  # Ansible reads null, '' or [] as "no variables"
                return []
            raise self.doc.error(f"variables of host {pattern!r} must be a mapping", node)
        return [(key, self.doc.value(value_node), self.doc.line(key_node))
                for key, key_node, value_node in self.doc.pairs(node)]
