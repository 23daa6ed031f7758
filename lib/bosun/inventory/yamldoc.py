"""YAML files read as node trees, so every shape error can name its line.

Used for YAML inventories and for the files in group_vars/ and host_vars/. Values come out as
`ansible-inventory` prints them: timestamps become ISO text, anything without a JSON form is
refused.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from bosun.errors import ConfigError


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading timestamps as text (Ansible prints them with isoformat)."""


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    value: datetime.date = loader.construct_yaml_timestamp(node)
    return value.isoformat()


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


class YamlDocument:
    """One YAML document: its root node, and values built from any node on demand."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self._loader = _Loader(data)
        try:
            self.root: yaml.Node | None = self._loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            raise self._syntax_error(error, "YAML syntax error") from error
        except yaml.YAMLError as error:
            raise ConfigError(f"YAML syntax error: {error}", path) from error

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1

    def error(self, message: str, node: yaml.Node) -> ConfigError:
        return ConfigError(message, self.path, self.line(node))

    def value(self, node: yaml.Node) -> Any:
        """The Python value of `node` (aliases and merge keys resolved)."""
        try:
            value = self._loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self._syntax_error(error, "unsupported YAML") from error
        _check_plain(value, self, node)
        return value

    def pairs(self, node: yaml.MappingNode) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """Key, key node and value node of each entry of a mapping, `<<` merge keys applied.

        A key given twice keeps its first place and its last value, as when PyYAML (and so
        Ansible) builds a dict.
        """
        self._loader.flatten_mapping(node)
        entries: dict[Any, tuple[Any, yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            try:
                entries[key] = (key, key_node, value_node)
            except TypeError as error:
                raise self.error(f"mapping key {key!r} is not a scalar", key_node) from error
        return list(entries.values())

    def is_null(self, node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def _syntax_error(self, error: yaml.MarkedYAMLError, kind: str) -> ConfigError:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "unreadable"
        return ConfigError(f"{kind}: {problem}", self.path, mark.line + 1 if mark else None)


def read_yaml(path: str) -> YamlDocument:
    """Parse the YAML (or JSON) file at `path`. Raises ConfigError if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", path) from error
    return YamlDocument(path, data)


def _check_plain(value: Any, document: YamlDocument, node: yaml.Node) -> None:
    """Refuse values that have no JSON form (!!binary, !!set, !!omap, ...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)):
                raise document.error(f"mapping key {key!r} is not a string or number", node)
            _check_plain(item, document, node)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item, document, node)
    elif not isinstance(value, (str, int, float, bool, type(None))):
        raise document.error(f"unsupported YAML value of type {type(value).__name__}", node)
