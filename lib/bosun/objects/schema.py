"""What fields each kind has, and what follows from that alone: unknown fields, JSON types,
required fields, quantities, strategic-merge keys, and the OpenAPI v3 documents kubectl reads.

The API uses `unknown_fields`/`prune_unknown` for `fieldValidation` (Strict rejects, Warn warns,
Ignore drops), `type_errors` to refuse bodies that cannot be decoded, and `field_type`/`merge_key`
to merge strategic merge patches by key. The field table itself is `fieldsets.TYPES`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cache

from bosun.objects import fielderrors as fe
from bosun.objects.fielderrors import FieldError, GoValue
from bosun.objects.fieldsets import (
    AUTOSCALING_TYPES,
    MERGE_KEYS,
    META_TYPES,
    POLICY_TYPES,
    RETAIN_KEYS,
    TYPES,
)
from bosun.objects.registry import RESOURCES, SUBRESOURCES, ResourceInfo
from bosun.objects.status import BadRequest

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_PRIMITIVES = {
    "s": ("string", lambda v: isinstance(v, str)),
    "i": ("integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "n": ("number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "b": ("boolean", lambda v: isinstance(v, bool)),
    "t": ("RFC 3339 time", lambda v: isinstance(v, str) and bool(_TIME.fullmatch(v))),
    "q": ("quantity", lambda v: isinstance(v, str | int | float) and not isinstance(v, bool)),
    "x": ("int-or-string", lambda v: isinstance(v, str | int) and not isinstance(v, bool)),
    "o": ("object", lambda v: True),
}


@cache
def fields(type_name: str) -> dict[str, tuple[str, bool]]:
    """Fields of a struct type: name -> (type reference, required). Empty for unknown types."""
    out = {}
    for token in TYPES.get(type_name, "").split():
        name, _, ref = token.partition(":")
        out[name.rstrip("!")] = (ref, name.endswith("!"))
    return out


def field_type(type_name: str, field: str) -> str | None:
    """Type reference of `field` in `type_name` (`[Container]`, `s`, `ObjectMeta`), or None."""
    found = fields(type_name).get(field)
    return found[0] if found else None


def element_type(type_ref: str) -> str:
    """The type of the items of `[T]` or values of `{T}`; the reference itself otherwise."""
    return type_ref[1:-1] if type_ref[:1] in "[{" else type_ref


def merge_key(type_name: str, field: str) -> str | None:
    """Strategic-merge key of a list field (`containers` -> `name`); "" merges scalars as a set;
    None means the list is replaced whole."""
    return MERGE_KEYS.get((type_name, field))


def retains_keys(type_name: str, field: str) -> bool:
    return (type_name, field) in RETAIN_KEYS


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_struct(ref: str) -> bool:
    return ref in TYPES


def referenced_types(type_name: str) -> set[str]:
    """Struct types the fields of `type_name` refer to directly."""
    return {ref.strip("[]{}") for ref, _ in fields(type_name).values()} & TYPES.keys()


def unknown_fields(kind: str, obj: object) -> list[str]:
    """Paths of fields `kind` does not have, e.g. `spec.containers[0].imagee`."""
    out: list[str] = []
    _walk_unknown(kind, obj, "", out)
    return out


def _walk_unknown(ref: str, value: object, path: str, out: list[str]) -> None:
    if ref.startswith("[") and isinstance(value, list):
        for i, item in enumerate(value):
            _walk_unknown(ref[1:-1], item, f"{path}[{i}]", out)
    elif ref.startswith("{") and isinstance(value, dict):
        for key, item in value.items():
            _walk_unknown(ref[1:-1], item, f"{path}[{key}]", out)
    elif _is_struct(ref) and isinstance(value, dict):
        known = fields(ref)
        for key, item in value.items():
            if key in known:
                _walk_unknown(known[key][0], item, _join(path, key), out)
            else:
                out.append(_join(path, key))


def prune_unknown(kind: str, obj: dict) -> dict:
    """A copy of `obj` without the fields `kind` does not have (what Ignore and Warn store)."""
    return _prune(kind, obj)


def _prune(ref: str, value: object) -> object:
    if ref.startswith("[") and isinstance(value, list):
        return [_prune(ref[1:-1], item) for item in value]
    if ref.startswith("{") and isinstance(value, dict):
        return {key: _prune(ref[1:-1], item) for key, item in value.items()}
    if _is_struct(ref) and isinstance(value, dict):
        known = fields(ref)
        return {k: _prune(known[k][0], v) for k, v in value.items() if k in known}
    return json.loads(json.dumps(value)) if isinstance(value, dict | list) else value


def type_errors(kind: str, obj: object) -> list[FieldError]:
    """Fields whose JSON type is wrong for `kind` (a string where a list belongs, ...).

    null is accepted everywhere: Kubernetes decodes it as the field's zero value.
    """
    if not isinstance(obj, dict):
        return [fe.type_invalid("", _json_type(obj), "must be of type object")]
    out: list[FieldError] = []
    _walk_types(kind, obj, "", out)
    return out


def _json_type(value: object) -> object:
    if isinstance(value, dict):
        return GoValue('"object"')
    if isinstance(value, list):
        return GoValue('"array"')
    return value


def _walk_types(ref: str, value: object, path: str, out: list[FieldError]) -> None:
    if value is None:
        return
    if ref.startswith("["):
        if not isinstance(value, list):
            out.append(fe.type_invalid(path, _json_type(value), "must be of type array"))
            return
        for i, item in enumerate(value):
            _walk_types(ref[1:-1], item, f"{path}[{i}]", out)
    elif ref.startswith("{") or _is_struct(ref):
        if not isinstance(value, dict):
            out.append(fe.type_invalid(path, _json_type(value), "must be of type object"))
            return
        known = fields(ref) if _is_struct(ref) else None
        for key, item in value.items():
            if known is None:
                _walk_types(ref[1:-1], item, f"{path}[{key}]", out)
            elif key in known:
                _walk_types(known[key][0], item, _join(path, key), out)
    else:
        name, accepts = _PRIMITIVES[ref]
        if not accepts(value):
            out.append(fe.type_invalid(path, _json_type(value), f"must be of type {name}"))


def missing_required(kind: str, obj: dict, skip: frozenset[str] = frozenset()) -> list[FieldError]:
    """Required fields (per Kubernetes' OpenAPI) absent from the structs `obj` holds.

    Top-level fields named in `skip` (e.g. `status`, which the server replaces) are not searched.
    """
    out: list[FieldError] = []
    present = {k: v for k, v in obj.items() if k not in skip} if isinstance(obj, dict) else obj
    _walk_required(kind, present, "", out)
    return out


def _walk_required(ref: str, value: object, path: str, out: list[FieldError]) -> None:
    if ref.startswith("[") and isinstance(value, list):
        for i, item in enumerate(value):
            _walk_required(ref[1:-1], {} if item is None else item, f"{path}[{i}]", out)
    elif ref.startswith("{") and isinstance(value, dict):
        for key, item in value.items():
            _walk_required(ref[1:-1], item, f"{path}[{key}]", out)
    elif _is_struct(ref) and isinstance(value, dict):
        for name, (sub, required) in fields(ref).items():
            item = value.get(name)
            if item is None and required:
                out.append(fe.required(_join(path, name)))
            elif item is not None:
                _walk_required(sub, item, _join(path, name), out)


def map_quantities(kind: str, obj: object, fn: Callable[[object], object]) -> object:
    """A copy of `obj` with `fn` applied to every quantity (resources, capacity, sizeLimit)."""
    return _map_q(kind, obj, fn)


def _map_q(ref: str, value: object, fn: Callable[[object], object]) -> object:
    if value is None:
        return None
    if ref == "q":
        return fn(value)
    if ref.startswith("[") and isinstance(value, list):
        return [_map_q(ref[1:-1], item, fn) for item in value]
    if ref.startswith("{") and isinstance(value, dict):
        return {k: _map_q(ref[1:-1], v, fn) for k, v in value.items()}
    if _is_struct(ref) and isinstance(value, dict):
        known = fields(ref)
        return {k: _map_q(known[k][0], v, fn) if k in known else v for k, v in value.items()}
    return value


def strict_decoding_error(kind: str, paths: list[str]) -> BadRequest:
    """The 400 Kubernetes answers under `fieldValidation=Strict` when fields are unknown."""
    listed = ", ".join(f"unknown field {fe.go_quote(p)}" for p in paths)
    return BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: '
                      f"strict decoding error: {listed}")


def unknown_field_warnings(paths: list[str]) -> list[str]:
    """Warning header texts for `fieldValidation=Warn`."""
    return [f"unknown field {fe.go_quote(p)}" for p in paths]


def decode_error(kind: str, errors: list[FieldError]) -> BadRequest:
    """The 400 for a body whose field types are wrong (it cannot be decoded as a `kind`)."""
    first = str(errors[0]) if errors else "malformed object"
    return BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: {first}')


# --- OpenAPI v3 -------------------------------------------------------------------------------
# kubectl's default validation downloads these documents. It looks for a `patch` operation
# carrying the kind's `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter;
# finding one, it sends `?fieldValidation=Strict` and leaves validation to the server.
# Component schemas come from the same field table, so `kubectl explain` works too.

KUBERNETES_VERSION = "v1.32.0"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_OPENAPI_TYPES = {
    "s": {"type": "string"}, "i": {"type": "integer", "format": "int64"},
    "n": {"type": "number", "format": "double"}, "b": {"type": "boolean"},
    "t": {"type": "string", "format": "date-time"}, "o": {"type": "object"},
    "q": {"$ref": f"#/components/schemas/{_QUANTITY}"},
    "x": {"$ref": f"#/components/schemas/{_INT_OR_STRING}"},
}
_QUERY = ("dryRun", "fieldManager", "fieldValidation")


def openapi_name(type_name: str) -> str:
    """Kubernetes' OpenAPI name of a type (`io.k8s.api.core.v1.Pod`)."""
    if type_name in META_TYPES:
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{type_name}"
    if type_name in AUTOSCALING_TYPES:
        return f"io.k8s.api.autoscaling.v1.{type_name}"
    if type_name in POLICY_TYPES:
        return f"io.k8s.api.policy.v1.{type_name}"
    return f"io.k8s.api.core.v1.{type_name}"


def _property(ref: str) -> dict:
    if ref.startswith("["):
        return {"type": "array", "items": _property(ref[1:-1])}
    if ref.startswith("{"):
        return {"type": "object", "additionalProperties": _property(ref[1:-1])}
    if ref in _OPENAPI_TYPES:
        return dict(_OPENAPI_TYPES[ref])
    return {"$ref": f"#/components/schemas/{openapi_name(ref)}"}


def component_schema(type_name: str, gvk: dict | None = None) -> dict:
    """OpenAPI schema of one type, with Kubernetes' patch-strategy extensions on merged lists."""
    props = {}
    for name, (ref, _required) in fields(type_name).items():
        prop = _property(ref)
        key = merge_key(type_name, name)
        if key is not None:
            retain = retains_keys(type_name, name)
            prop["x-kubernetes-patch-strategy"] = "merge,retainKeys" if retain else "merge"
            if key:
                prop["x-kubernetes-patch-merge-key"] = key
        props[name] = prop
    out: dict = {"type": "object", "properties": props}
    required = sorted(n for n, (_ref, req) in fields(type_name).items() if req)
    if required:
        out["required"] = required
    if gvk:
        out["x-kubernetes-group-version-kind"] = [gvk]
    return out


def _gvk(resource: ResourceInfo) -> dict:
    return {"group": resource.group, "kind": resource.kind, "version": resource.version}


def _operation(action: str, resource: ResourceInfo, op_id: str) -> dict:
    params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for n in _QUERY] if action in ("patch", "put", "post") else []
    if action == "patch":
        params.append({"name": "force", "in": "query", "schema": {"type": "boolean"}})
    ref = {"$ref": f"#/components/schemas/{openapi_name(resource.kind)}"}
    # No requestBody on patch: kubectl then builds apply patches from its own compiled-in
    # core/v1 types, which carry Kubernetes' exact merge keys.
    return {"operationId": op_id, "tags": ["core_v1"], "parameters": params,
            "responses": {"200": {"description": "OK",
                                  "content": {"application/json": {"schema": ref}}}},
            "x-kubernetes-action": action, "x-kubernetes-group-version-kind": _gvk(resource)}


def _item_path(resource: ResourceInfo) -> str:
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    sub = f"/{resource.subresource}" if resource.subresource else ""
    return f"/api/v1{scope}/{resource.resource}/{{name}}{sub}"


def _path_parameters(resource: ResourceInfo) -> list[dict]:
    names = ["name", "namespace"] if resource.namespaced else ["name"]
    return [{"name": n, "in": "path", "required": True,
             "schema": {"type": "string", "uniqueItems": True}} for n in names]


_METHODS = (("get", "get"), ("update", "put"), ("patch", "patch"), ("delete", "delete"))


def _paths(resources: list[ResourceInfo]) -> dict:
    paths = {}
    for resource in resources:
        op_id = f"{resource.kind}{resource.subresource.title()}"
        ops = {method: _operation(method, resource, method + op_id)
               for verb, method in _METHODS if verb in resource.verbs}
        paths[_item_path(resource)] = {"parameters": _path_parameters(resource), **ops}
    return paths


def openapi_v3(kinds: list[str] | None = None) -> dict:
    """The `/openapi/v3/api/v1` document for `kinds` (default: every kind Bosun serves)."""
    wanted = set(kinds) if kinds is not None else {r.kind for r in RESOURCES.values()}
    main = [r for r in RESOURCES.values() if r.kind in wanted]
    names = {r.name for r in main}
    resources = main + [r for r in SUBRESOURCES.values()
                        if r.resource in names and "patch" in r.verbs]
    gvks = {r.kind: _gvk(r) for r in resources}
    components = {openapi_name(t): component_schema(t, gvks.get(t))
                  for t in _reachable(sorted(gvks))}
    components[_QUANTITY] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
    components[_INT_OR_STRING] = {"type": "string", "format": "int-or-string"}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
            "paths": _paths(resources), "components": {"schemas": components}}


def _reachable(roots: list[str]) -> list[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen and fields(name):
            seen.add(name)
            todo.extend(referenced_types(name))
    return sorted(seen)


def document_hash(document: dict) -> str:
    """Hash for the `?hash=` of a group document's URL (changes whenever the document does)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha512(text.encode()).hexdigest().upper()


def openapi_v3_index(documents: dict[str, dict]) -> dict:
    """The `/openapi/v3` index: each group-version path (`api/v1`) with its hashed URL."""
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(doc)}"}
                      for path, doc in sorted(documents.items())}}
