"""The three PATCH body types of the Kubernetes API, applied to a stored object (pure, no I/O).

`strategic_merge` is what `kubectl apply` and `kubectl edit` send; `json_merge` (RFC 7386) is what
`kubectl label`, `annotate` and `scale` send; `json_patch` (RFC 6902) is `kubectl patch --type
json`. Each returns a new object and leaves its arguments untouched; a patch that cannot apply
raises BadPatch, which the API answers with a 4xx Status.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import partial

import jsonpatch
import jsonpointer

from bosun.api import patchschema
from bosun.errors import PermanentError

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"


class BadPatch(PermanentError):
    """The patch is malformed or cannot apply to this object; resending it fails the same way."""


def strategic_merge(original: dict, patch: dict, kind: str) -> dict:
    """original with a Kubernetes strategic merge patch applied, lists merged per kind's schema.

    Maps merge key by key and null deletes a key. Lists named in `patchschema` merge by their
    merge key (lists of scalars as ordered sets); other lists are replaced. Directives:
    `$patch: replace|merge|delete` in maps and list elements, `$setElementOrder/<list>`,
    `$retainKeys` and `$deleteFromPrimitiveList/<list>`. Merged lists come out in the order the
    apiserver gives them (see `_arrange`). Two deliberate differences from the apiserver: a value
    new to the object is merged like any other (its directives apply, its nulls drop) where
    Kubernetes stores it verbatim, and an unknown `$` key is refused where Kubernetes keeps it as
    a field.

    Raises BadPatch for a malformed patch, an unknown directive, or a kind without a schema;
    TypeError if original is not an object.
    """
    if not isinstance(original, dict):
        raise TypeError(f"strategic_merge needs an object to patch, not {_type(original)}")
    try:
        schema = patchschema.for_kind(kind)
    except KeyError:
        raise BadPatch(f"strategic merge patch is not supported for {kind}") from None
    if not isinstance(patch, dict):
        raise BadPatch(f"a strategic merge patch must be a JSON object, not {_type(patch)}")
    try:
        return _StrategicMerge(schema).merge_map(copy.deepcopy(original), patch, ())
    except RecursionError:
        raise BadPatch("the patch is nested too deeply") from None


def json_merge(original: dict, patch: dict) -> dict:
    """original with an RFC 7386 JSON merge patch applied. Raises BadPatch for a non-object."""
    if not isinstance(patch, dict):
        raise BadPatch(f"a merge patch must be a JSON object, not {_type(patch)}")
    try:
        return _merge_patch(copy.deepcopy(original), patch)
    except RecursionError:
        raise BadPatch("the patch is nested too deeply") from None


def _merge_patch(target: object, patch: object) -> object:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_patch(target.get(key), value)
    return target


# jsonpatch reports most failures with its own exceptions, but a few malformed operations (a
# value of the wrong type where it indexes or compares) surface as the builtin ones.
_JSONPATCH_FAILURES = (
    jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
    TypeError, ValueError, KeyError, IndexError, AttributeError,
)


def json_patch(original: dict, operations: list) -> dict:
    """original with an RFC 6902 JSON patch applied.

    Raises BadPatch when an operation is malformed, a path does not exist, a `test` fails, or the
    result is not an object.
    """
    if not isinstance(operations, list):
        raise BadPatch(f"a JSON patch must be a list of operations, not {_type(operations)}")
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise BadPatch(f"operation {number} is not an object with a string 'op'")
        if not isinstance(operation.get("path"), str):
            raise BadPatch(f"operation {number} has no string 'path'")
    try:
        # Copies first: jsonpatch inserts operation values into the result as they are.
        result = jsonpatch.JsonPatch(copy.deepcopy(operations)).apply(
            copy.deepcopy(original), in_place=True)
    except _JSONPATCH_FAILURES as error:
        raise BadPatch(f"the JSON patch cannot apply: {error}") from None
    except RecursionError:
        raise BadPatch("the patch is nested too deeply") from None
    if not isinstance(result, dict):
        raise BadPatch("the JSON patch did not produce an object")
    return result


@dataclass
class _Directives:
    """A patch map split into plain fields and the directives that ride along with them."""

    fields: dict = field(default_factory=dict)
    orders: dict[str, list] = field(default_factory=dict)
    deletions: dict[str, list] = field(default_factory=dict)
    retain: list[str] | None = None


class _StrategicMerge:
    """One strategic merge against one kind's schema.

    Maps passed in as `target` belong to the merge (deep copies of the original) and are changed
    in place; patch values are only read, and copied when they become part of the result.
    """

    def __init__(self, schema: patchschema.Table) -> None:
        self.schema = schema

    def merge_map(self, target: dict, patch: object, path: tuple[str, ...]) -> dict:
        if not isinstance(patch, dict):
            raise BadPatch(f"{_where(path)}: expected an object, got {_type(patch)}")
        if _PATCH in patch:
            directive = patch[_PATCH]
            rest = {key: value for key, value in patch.items() if key != _PATCH}
            if directive == "delete":
                return {}
            if directive == "replace":
                return self.merge_map({}, rest, path)
            if directive != "merge":
                raise BadPatch(f"{_where(path)}: unknown $patch directive {directive!r}")
            patch = rest
        parts = _split(patch, path)
        if parts.retain is not None:
            _retain_keys(target, parts, path)
        for name, value in parts.fields.items():
            self._merge_field(target, name, value, parts.orders.get(name), path)
        for name, order in parts.orders.items():
            self._require_merging_list(path + (name,), "$setElementOrder")
            if name not in parts.fields and isinstance(target.get(name), list):
                target[name] = self._merge_list(target[name], [], order, path + (name,))
        for name, doomed in parts.deletions.items():
            if isinstance(target.get(name), list):
                drop = {_scalar_id(value) for value in doomed}
                target[name] = [item for item in target[name] if _item_id(item) not in drop]
        return target

    def _merge_field(self, target: dict, name: str, value: object, order: list | None,
                     path: tuple[str, ...]) -> None:
        here = path + (name,)
        current = target.get(name)
        if value is None:
            target.pop(name, None)
        elif here in self.schema:
            if not isinstance(value, list):
                raise BadPatch(f"{_where(here)}: expected a list, got {_type(value)}")
            base = current if isinstance(current, list) else []
            target[name] = self._merge_list(base, value, order, here)
        elif isinstance(value, dict):
            if isinstance(current, list):
                raise BadPatch(f"{_where(here)}: expected a list, got an object")
            target[name] = self.merge_map(current if isinstance(current, dict) else {}, value, here)
        elif isinstance(value, list) and isinstance(current, dict):
            raise BadPatch(f"{_where(here)}: expected an object, got a list")
        else:
            _refuse_directives(value, here)
            target[name] = copy.deepcopy(value)

    def _require_merging_list(self, path: tuple[str, ...], directive: str) -> None:
        if path not in self.schema:
            raise BadPatch(f"{_where(path)}: {directive} needs a merging list, and this field "
                           f"is not one")

    def _merge_list(self, current: list, patch: list, order: list | None,
                    path: tuple[str, ...]) -> list:
        """current (owned) merged with patch, ordered the way the apiserver orders it."""
        key = self.schema[path].key
        if key is None:
            items, touched = _union_scalars(current, patch, path)
            stored = [_item_id(item) for item in current]
            identify = _item_id
        else:
            merged = self._merge_keyed(current, patch, key, path)
            items, touched = merged.items, merged.touched
            stored = merged.stored_view() if order else merged.survivors
            identify = partial(_keyed_id, key=key)
        wanted = touched
        if order:  # kubectl sends $setElementOrder with the full list in the user's order
            wanted = _order_ids(order, key, path)
            _check_subsequence(touched, wanted, path)
        return _arrange(items, wanted, stored, identify)

    def _merge_keyed(self, current: list, patch: list, key: str,
                     path: tuple[str, ...]) -> _KeyedMerge:
        plain, doomed, replace = _sort_elements(patch, key, path)
        items = [item for item in current if _keyed_id(item, key) not in doomed]
        merged = _KeyedMerge(
            items=[] if replace else items,
            touched=[_merge_key(element, key, path) for element in plain],
            stored=[_keyed_id(item, key) for item in current], doomed=doomed,
            survivors=[_keyed_id(item, key) for item in items])
        for element, wanted in zip(plain, merged.touched, strict=True):
            at = next((n for n, item in enumerate(merged.items)
                       if _keyed_id(item, key) == wanted), None)
            if at is None:
                merged.items.append(self.merge_map({}, element, path))
                merged.appended.append(wanted)
            else:
                merged.items[at] = self.merge_map(merged.items[at], element, path)
        if replace:
            merged.appended.clear()  # Kubernetes appends those to a fresh list
        return merged


@dataclass
class _KeyedMerge:
    """A list merged by key, with what Kubernetes later needs to order it."""

    items: list
    touched: list  # merge keys of the patch's plain elements, in patch order
    stored: list  # merge keys of the stored list
    doomed: list  # merge keys the patch deletes, in patch order
    survivors: list  # merge keys of the stored elements left after the deletions
    appended: list = field(default_factory=list)  # merge keys new to the list, as added

    def stored_view(self) -> list:
        """The stored order Kubernetes compares against when $setElementOrder is given.

        The apiserver deletes and appends inside the array that still backs its copy of the
        stored list, so that copy ends up as the survivors, then the new elements (as many as
        the deletions freed room for), then stale entries. Reproduced because it decides
        whether a new element lands before or after elements only the server has.
        """
        view, length = list(self.stored), len(self.stored)
        for doomed in self.doomed:
            while doomed in view[:length]:
                at = view.index(doomed, 0, length)
                view[at:length - 1] = view[at + 1:length]
                length -= 1
        for ident in self.appended[:len(view) - length]:
            view[length] = ident
            length += 1
        return view


def _sort_elements(patch: list, key: str, path: tuple[str, ...]) -> tuple[list, list, bool]:
    """A keyed patch list's plain elements, the keys it deletes, and whether it replaces."""
    plain, doomed, replace = [], [], False
    for element in patch:
        if not isinstance(element, dict):
            raise BadPatch(f"{_where(path)}: list elements must be objects, got {_type(element)}")
        directive = element.get(_PATCH)
        if _PATCH not in element:
            plain.append(element)
        elif directive == "delete":
            doomed.append(_merge_key(element, key, path))
        elif directive == "replace":
            replace = True
        elif directive != "merge":
            raise BadPatch(f"{_where(path)}: unknown $patch directive {directive!r}")
    return plain, doomed, replace


def _split(patch: dict, path: tuple[str, ...]) -> _Directives:
    """Separate plain fields from directives, validating every directive's shape."""
    parts = _Directives()
    for key, value in patch.items():
        if not isinstance(key, str):
            raise BadPatch(f"{_where(path)}: object keys must be strings")
        if not key.startswith("$"):
            parts.fields[key] = value
        elif key == _RETAIN_KEYS:
            if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
                raise BadPatch(f"{_where(path)}: $retainKeys must be a list of field names")
            parts.retain = value
        elif key.startswith(_SET_ORDER) and key != _SET_ORDER:
            if not isinstance(value, list):
                raise BadPatch(f"{_where(path)}: {key} must be a list")
            parts.orders[key[len(_SET_ORDER):]] = value
        elif key.startswith(_DELETE_FROM) and key != _DELETE_FROM:
            if not isinstance(value, list) or any(_scalar_id(v) is None for v in value):
                raise BadPatch(f"{_where(path)}: {key} must be a list of scalars")
            parts.deletions[key[len(_DELETE_FROM):]] = value
        else:
            raise BadPatch(f"{_where(path)}: unknown patch directive {key!r}")
    return parts


def _refuse_directives(value: object, path: tuple[str, ...]) -> None:
    """Directives mean nothing inside a replaced value; Kubernetes would store them as fields."""
    if isinstance(value, list):
        for element in value:
            _refuse_directives(element, path)
    elif isinstance(value, dict):
        for key, nested in value.items():
            if isinstance(key, str) and key.startswith("$"):
                raise BadPatch(f"{_where(path)}: directive {key!r} inside a list that a patch "
                               f"replaces whole")
            _refuse_directives(nested, path)


def _retain_keys(target: dict, parts: _Directives, path: tuple[str, ...]) -> None:
    """Drop the fields of target not listed; the patch may only set listed ones."""
    allowed = set(parts.retain or ())
    stray = sorted(k for k, v in parts.fields.items() if v is not None and k not in allowed)
    if stray:
        raise BadPatch(f"{_where(path)}: $retainKeys does not list {', '.join(stray)}, "
                       f"which the patch sets")
    for name in [name for name in target if name not in allowed]:
        del target[name]


def _union_scalars(current: list, patch: list, path: tuple[str, ...]) -> tuple[list, list]:
    """current plus the patch's new values, without duplicates; also the patch's values."""
    if any(_scalar_id(value) is None for value in patch):
        raise BadPatch(f"{_where(path)}: expected a list of scalars")
    merged, seen = [], set()
    for value in [*current, *patch]:
        if _item_id(value) not in seen:
            seen.add(_item_id(value))
            merged.append(value)
    return merged, [_scalar_id(value) for value in patch]


def _arrange(items: list, wanted: list, server: list, identify) -> list:
    """The apiserver's order: items named in `wanted` in that order; the others keep their
    place from the stored list, slotted in before a wanted item only when the stored list also
    had them before it. A wanted item the stored list lacks therefore comes first.
    """
    wanted_at = _first_positions(wanted)
    server_at = _first_positions(server)
    ours = sorted((item for item in items if identify(item) in wanted_at),
                  key=lambda item: wanted_at[identify(item)])
    theirs = [item for item in items if identify(item) not in wanted_at]
    arranged, i, j = [], 0, 0
    while i < len(theirs) and j < len(ours):
        before = server_at.get(identify(theirs[i]))
        after = server_at.get(identify(ours[j]))
        if before is not None and after is not None and before < after:
            arranged.append(theirs[i])
            i += 1
        else:
            arranged.append(ours[j])
            j += 1
    return arranged + theirs[i:] + ours[j:]


def _first_positions(ids: list) -> dict:
    positions: dict = {}
    for position, ident in enumerate(ids):
        positions.setdefault(ident, position)
    return positions


def _order_ids(order: list, key: str | None, path: tuple[str, ...]) -> list:
    """The identities a $setElementOrder list names."""
    if key is None:
        if any(_scalar_id(value) is None for value in order):
            raise BadPatch(f"{_where(path)}: $setElementOrder must list scalars")
        return [_scalar_id(value) for value in order]
    for element in order:
        if not isinstance(element, dict):
            raise BadPatch(f"{_where(path)}: $setElementOrder must list objects")
    return [_merge_key(element, key, path) for element in order]


def _check_subsequence(touched: list, wanted: list, path: tuple[str, ...]) -> None:
    remaining = iter(wanted)
    if not all(any(ident == candidate for candidate in remaining) for ident in touched):
        raise BadPatch(f"{_where(path)}: the order of the patch list does not match "
                       f"its $setElementOrder list")


def _merge_key(element: dict, key: str, path: tuple[str, ...]) -> tuple:
    """The identity of a patch element by its merge key. Raises BadPatch when it has none."""
    if key not in element:
        raise BadPatch(f"{_where(path)}: element does not contain the merge key {key!r}")
    ident = _scalar_id(element[key])
    if ident is None or element[key] is None:
        raise BadPatch(f"{_where(path)}: merge key {key!r} must be a string, number or boolean")
    return ident


def _keyed_id(item: object, key: str) -> tuple:
    """The identity of a stored element; one without a usable key matches nothing."""
    if isinstance(item, dict):
        ident = _scalar_id(item.get(key))
        if ident is not None and item.get(key) is not None:
            return ident
    return ("unmatched", id(item))


def _item_id(item: object) -> tuple:
    ident = _scalar_id(item)
    return ("unmatched", id(item)) if ident is None else ident


def _scalar_id(value: object) -> tuple | None:
    """A hashable identity that, like Go's interface equality, keeps true apart from 1."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    return None


def _where(path: tuple[str, ...]) -> str:
    return ".".join(path) if path else "the patch"


def _type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__
