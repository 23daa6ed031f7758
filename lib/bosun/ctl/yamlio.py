"""YAML read and written the way kubectl does (go-yaml v2 rules over PyYAML).

kubectl reads manifests with YAML 1.1 scalars as go-yaml v2 resolves them: `y`/`n`/`on`/`off`
are booleans, `1e3` is a number, timestamps and `1:30` stay text. It writes `-o yaml` with keys
sorted, text that would read back as another type in double quotes, and multi-line text as a
literal block. Matching both keeps annotations and outputs identical across the two tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
                   r"|on|On|ON|off|Off|OFF)$")
_TRUE = {"y", "yes", "true", "on"}
_INT = re.compile(r"^[-+]?(?:0b[0-1_]+|0[0-7_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*|0)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}"
                        r":[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$")
_MERGE = re.compile(r"^(?:<<)$")
_DIGITS = list("-+0123456789")

_STR = "tag:yaml.org,2002:str"


def _resolvers(with_timestamps: bool) -> dict:
    table: dict = {}

    def add(tag: str, pattern: re.Pattern, first: list) -> None:
        for char in first:
            table.setdefault(char, []).append((tag, pattern))

    add("tag:yaml.org,2002:bool", _BOOL, list("yYnNtTfFoO"))
    add("tag:yaml.org,2002:int", _INT, _DIGITS)
    add("tag:yaml.org,2002:float", _FLOAT, [*_DIGITS, "."])
    add("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])
    add("tag:yaml.org,2002:merge", _MERGE, ["<"])
    if with_timestamps:
        add("tag:yaml.org,2002:timestamp", _TIMESTAMP, list("0123456789"))
    return table


class _Loader(yaml.SafeLoader):
    """Safe loading with go-yaml v2's scalars; timestamps stay text, as kubectl keeps them."""

    yaml_implicit_resolvers = _resolvers(with_timestamps=False)


def _construct_bool(loader: _Loader, node: yaml.ScalarNode) -> bool:
    return loader.construct_scalar(node).lower() in _TRUE


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)


def load_all(text: str) -> Iterator[object]:
    """The documents of a YAML stream. Raises yaml.YAMLError."""
    return yaml.load_all(text, Loader=_Loader)


class _Dumper(yaml.SafeDumper):
    """Safe dumping that quotes text as go-yaml v2 would need it quoted to read it back."""

    yaml_implicit_resolvers = _resolvers(with_timestamps=True)


def _represent_text(dumper: _Dumper, text: str) -> yaml.ScalarNode:
    style = None
    if "\n" in text:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, text, (True, False)) != _STR:
        style = '"'
    return dumper.represent_scalar(_STR, text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(value: object) -> str:
    """value as kubectl's `-o yaml` prints it."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=True, allow_unicode=True,
                     default_flow_style=False)
