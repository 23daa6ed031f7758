"""Client-side `apply`: the three-way strategic merge patch and the last-applied annotation.

`kubectl apply` keeps what it last applied in an annotation, and on the next apply sends a patch
built from three documents: the last-applied one (original), the file (modified) and the live
object (current). Fields the file sets that differ from the live object are set; fields the last
apply set that the file no longer has are deleted (null, `$patch: delete`, or
`$deleteFromPrimitiveList`), and merging lists carry `$setElementOrder` with the file's order.
Fields set by anyone else are left alone. Lists merge by the keys in `bosun.api.patchschema`;
other lists are replaced whole. Pure functions, no I/O.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

from bosun.api import patchschema
from bosun.api.patchschema import MergeList
from bosun.errors import PermanentError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"
Path = tuple[str, ...]


class ApplyPatchError(PermanentError):
    """No patch can be computed: a merge key is missing, a list holds lists, or the file
    changes the object's apiVersion, kind or name."""


def three_way_patch(original: dict | None, modified: dict, current: dict, kind: str) -> dict:
    """The strategic merge patch that takes `current` to what `modified` asks for.

    original: the last-applied configuration (None when the object has none: nothing is
    deleted then). An empty result means the object is already as the file says.
    Raises ApplyPatchError, and KeyError for a kind without a merge schema.
    """
    schema = patchschema.for_kind(kind)
    delta = _Diff(schema, changes=True).maps(current, modified, ())
    removals = _Diff(schema, changes=False).maps(original or {}, modified, ())
    patch = _Combine(schema).maps(removals, delta, ())
    changed = [key for key in ("apiVersion", "kind") if key in patch]
    if "name" in (patch.get("metadata") or {}):
        changed.append("metadata.name")
    if changed:
        raise ApplyPatchError(f"the file changes {', '.join(changed)} of the object; apply "
                              f"cannot change what identifies an object")
    return patch


def with_last_applied(obj: dict) -> dict:
    """A copy of obj carrying its own serialization in the last-applied annotation.

    The annotation holds obj without that annotation (an empty `annotations` map when obj has
    no others), keys sorted, compact, with a trailing newline: byte for byte what kubectl stores,
    so that the same file applied by either tool leaves the same object.
    """
    bare = copy.deepcopy(obj)
    meta = bare.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    text = go_json(bare) + "\n"
    result = copy.deepcopy(bare)
    result["metadata"]["annotations"] = {**annotations, LAST_APPLIED: text}
    return result


def last_applied(obj: dict) -> dict | None:
    """The configuration a previous apply recorded on obj, or None when it has none.

    Raises ApplyPatchError when the annotation is not a JSON object.
    """
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ApplyPatchError(f"the {LAST_APPLIED} annotation is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ApplyPatchError(f"the {LAST_APPLIED} annotation is not a JSON object")
    return value


# -- JSON as Go writes it ----------------------------------------------------------------------

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_CHARS = re.compile("[<>&\u2028\u2029]")


def go_json(value: object, indent: int | None = None) -> str:
    """JSON as Go's encoding/json writes a decoded document: map keys sorted, `<`, `>`, `&`
    escaped, whole floats without a fraction. `indent` spaces per level as MarshalIndent."""
    text = _encode(value, indent, 0)
    # Those characters occur only inside strings, so a plain replacement is exact.
    return _HTML_CHARS.sub(lambda match: _HTML_ESCAPES[match.group()], text)


def _encode(value: object, indent: int | None, level: int) -> str:
    if isinstance(value, dict):
        items = [(_string(str(key)), item) for key, item in value.items()]
        parts = [f"{key}:{'' if indent is None else ' '}{_encode(item, indent, level + 1)}"
                 for key, item in sorted(items)]
        return _join("{", parts, "}", indent, level)
    if isinstance(value, list | tuple):
        return _join("[", [_encode(item, indent, level + 1) for item in value], "]", indent,
                     level)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)  # ints, booleans, null


def _join(opening: str, parts: list[str], closing: str, indent: int | None, level: int) -> str:
    if not parts:
        return opening + closing
    if indent is None:
        return opening + ",".join(parts) + closing
    inner, outer = "\n" + " " * indent * (level + 1), "\n" + " " * indent * level
    return opening + inner + ("," + inner).join(parts) + outer + closing


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def go_float(number: float) -> str:
    """Go's encoding of a float64: positional between 1e-6 and 1e21, else `1e-07` as `1e-7`.

    Raises ValueError for NaN and infinities, which JSON cannot carry.
    """
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{number} has no JSON form")
    if number == 0 or 1e-6 <= abs(number) < 1e21:
        text = format(Decimal(repr(number)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return re.sub(r"e([+-])0(\d)$", r"e\1\2", repr(number))


# -- values compared the way Go compares decoded JSON ---------------------------------------------

def _type(value: object) -> str:
    """JSON type name, numbers being one type (Go decodes every number to float64)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "map" if isinstance(value, dict) else "list"


def _equal(left: object, right: object) -> bool:
    """Deep equality where true is not 1, as for Go's reflect.DeepEqual on decoded JSON."""
    if _type(left) != _type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_equal(v, right[k]) for k, v in left.items())
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    return left == right


def _text(value: object) -> str:
    """A scalar as text: kubectl pairs and sorts merge keys by their printed form."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _element_kind(items: list, path: Path) -> str:
    """"map" or "scalar" for a list's elements. Raises ApplyPatchError for mixed or nested lists."""
    kinds = {_type(item) for item in items} - {"null"}
    if "list" in kinds:
        raise ApplyPatchError(f"{_where(path)}: lists of lists cannot be merged")
    if "map" in kinds and len(kinds) > 1:
        raise ApplyPatchError(f"{_where(path)}: a list mixes objects and scalars")
    return "map" if kinds == {"map"} else "scalar"


def _key_of(element: dict, key: str, path: Path) -> object:
    if not isinstance(element, dict) or key not in element:
        raise ApplyPatchError(f"{_where(path)}: element {json.dumps(element)} does not contain "
                              f"the merge key {key!r}")
    return element[key]


def _where(path: Path) -> str:
    return ".".join(path) or "the object"


# -- the two diffs ------------------------------------------------------------------------------

class _Diff:
    """One of the two diffs of a three-way patch.

    changes=True: what `new` sets differently from `old` (current -> modified), deletions
    ignored. changes=False: only what `new` no longer has of `old` (last-applied -> modified).
    """

    def __init__(self, schema: patchschema.Table, changes: bool) -> None:
        self.schema = schema
        self.changes = changes

    def maps(self, old: dict, new: dict, path: Path, retain: bool = False) -> dict:
        patch: dict = {}
        for key, value in new.items():
            here = path + (key,)
            if key not in old or _type(old[key]) != _type(value):
                if self.changes:
                    patch[key] = copy.deepcopy(value)
            elif isinstance(value, dict):
                if sub := self.maps(old[key], value, here):
                    patch[key] = sub
            elif isinstance(value, list):
                self.lists(patch, key, old[key], value, here)
            elif self.changes and not _equal(old[key], value):
                patch[key] = value
        if not self.changes:
            patch.update({key: None for key in old if key not in new})
        if retain:
            self._retain_keys(patch, old, new)
        return patch

    @staticmethod
    def _retain_keys(patch: dict, old: dict, new: dict) -> None:
        """`$retainKeys` for an element of a list with the retainKeys strategy (volumes)."""
        kept = sorted(key for key, value in new.items() if value is not None)
        dropped = any(value is not None and key not in new for key, value in old.items())
        if kept and (patch or dropped):
            patch[_RETAIN_KEYS] = kept

    def lists(self, patch: dict, key: str, old: list, new: list, path: Path) -> None:
        rule = self.schema.get(path)
        if rule is None:
            if self.changes and not _equal(old, new):
                patch[key] = copy.deepcopy(new)
            return
        if not old:
            if new and self.changes:
                patch[key] = copy.deepcopy(new)
            return
        if _element_kind(old + new, path) == "map":
            items, order = self._keyed(old, new, rule, path)
            deleted: list = []
        else:
            items, deleted, order = self._scalars(old, new)
        if items:
            patch[key] = items
        if deleted:
            patch[_DELETE_FROM + key] = deleted
        if order:
            patch[_SET_ORDER + key] = order

    def _keyed(self, old: list, new: list, rule: MergeList, path: Path) -> tuple[list, list]:
        """The patch list of a list merged by key (deletions last), and its order list."""
        key = rule.key
        if key is None:
            raise ApplyPatchError(f"{_where(path)}: a list of scalars holds objects")
        old_by = _by_text(old, key, path)
        new_by = _by_text(new, key, path)
        patch, deletions = [], []
        for text in sorted(old_by.keys() | new_by.keys()):
            before, after = old_by.get(text), new_by.get(text)
            if before is not None and after is not None:
                sub = self.maps(before, after, path, retain=rule.retain_keys)
                if sub:
                    sub[key] = after[key]
                    patch.append(sub)
            elif after is not None and self.changes:
                patch.append(copy.deepcopy(after))
            elif before is not None and not self.changes:
                deletions.append({_PATCH: "delete", key: before[key]})
        new_keys = [_text(_key_of(item, key, path)) for item in new]
        positions = {text: n for n, text in enumerate(new_keys)}
        patch.sort(key=lambda item: positions[_text(item[key])])
        same_order = [_text(_key_of(item, key, path)) for item in old] == new_keys
        patch += deletions
        order = None
        if (self.changes and (patch or not same_order)) or (not self.changes and patch):
            order = [{key: item[key]} for item in new]
        return patch, order

    def _scalars(self, old: list, new: list) -> tuple[list, list, list | None]:
        """Values added (in the file's order), values removed, and the order list."""
        old_texts = {_text(value) for value in old}
        new_texts = {_text(value) for value in new}
        added, removed, seen = [], [], set()
        if self.changes:
            added = [value for value in new if _text(value) not in old_texts]
        else:
            for value in sorted(old, key=_text):
                if _text(value) not in new_texts and _text(value) not in seen:
                    seen.add(_text(value))
                    removed.append(value)
        order = None
        if (removed and not self.changes) or (self.changes and not _equal(old, new)):
            order = list(new)
        return added, removed, order


def _by_text(items: list, key: str, path: Path) -> dict[str, dict]:
    """A list's elements by the text of their merge key (kubectl pairs elements by that text);
    the first of duplicates wins."""
    found: dict[str, dict] = {}
    for item in items:
        found.setdefault(_text(_key_of(item, key, path)), item)
    return found


# -- merging the two diffs into one patch ---------------------------------------------------------

class _Combine:
    """The deletions patch with the changes patch laid over it (they never set the same field
    differently: one only deletes, the other never does)."""

    def __init__(self, schema: patchschema.Table) -> None:
        self.schema = schema

    def maps(self, base: dict, extra: dict, path: Path) -> dict:
        result = copy.deepcopy(base)
        for key, value in extra.items():
            if key == _RETAIN_KEYS or key.startswith(_SET_ORDER):
                if key in result and not _equal(result[key], value):
                    raise ApplyPatchError(f"{_where(path)}: the two diffs disagree on {key}")
                result[key] = copy.deepcopy(value)
            elif key not in result or value is None or _type(result[key]) != _type(value):
                result[key] = copy.deepcopy(value)
            elif isinstance(value, dict):
                result[key] = self.maps(result[key], value, path + (key,))
            elif isinstance(value, list) and path + (key,) in self.schema:
                order = result.get(_SET_ORDER + key, extra.get(_SET_ORDER + key))
                result[key] = self.lists(result[key], value, order, path + (key,))
            else:
                result[key] = copy.deepcopy(value)
        return result

    def lists(self, base: list, extra: list, order: list | None, path: Path) -> list:
        key = self.schema[path].key
        if key is None or _element_kind(base + extra, path) != "map":
            merged = []
            for value in [*base, *extra]:
                if not any(_equal(value, seen) for seen in merged):
                    merged.append(copy.deepcopy(value))
            return merged
        deletes = [item for item in base if _PATCH in item]
        merged = [item for item in base if _PATCH not in item]
        for element in extra:
            text = _text(_key_of(element, key, path))
            at = next((n for n, item in enumerate(merged) if _text(item.get(key)) == text), None)
            if at is None:
                merged.append(copy.deepcopy(element))
            else:
                merged[at] = self.maps(merged[at], element, path)
        reference = order if order is not None else extra
        positions = {_text(item.get(key)): n for n, item in enumerate(reference)}
        merged.sort(key=lambda item: positions.get(_text(item.get(key)), len(positions)))
        return merged + deletes
