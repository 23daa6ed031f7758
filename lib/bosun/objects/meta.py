"""ObjectMeta: the fields the server owns (uid, creationTimestamp, generation, namespace, name from
generateName) and the checks every object's metadata must pass.

The API calls `prepare_create` before storing a new object and `prepare_update` before replacing
one, after `defaults.apply_defaults` and before `validation.validate`. Both are pure: time, uid
and the generateName suffix come in as arguments.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bosun.objects import fielderrors as fe
from bosun.objects import names
from bosun.objects.allocation import carry_allocations
from bosun.objects.defaults import NAMESPACE_NAME_LABEL, apply_defaults, initial_status
from bosun.objects.fielderrors import FieldError
from bosun.objects.registry import info
from bosun.objects.status import BadRequest, Conflict

TOTAL_ANNOTATION_SIZE = 256 * 1024
FINALIZER_KUBERNETES = "kubernetes"
GENERATED_SUFFIX_LEN = 5
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATED_PREFIX = names.DNS1123_LABEL_MAX - GENERATED_SUFFIX_LEN

# How each resource's names are checked, as in Kubernetes.
NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "namespaces": names.dns1123_label,
    "services": names.dns1035_label,
    "pods": names.dns1123_subdomain,
    "replicationcontrollers": names.dns1123_subdomain,
    "nodes": names.dns1123_subdomain,
    "endpoints": names.dns1123_subdomain,
    "events": names.dns1123_subdomain,
}
# Resources whose metadata.generation counts spec changes.
GENERATION_RESOURCES = frozenset({"pods", "replicationcontrollers"})
# Resources whose create request may not set status (the server starts it afresh).
STATUS_RESET_ON_CREATE = frozenset({"pods", "services", "replicationcontrollers", "namespaces"})
_SERVER_OWNED = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                 "generation", "managedFields", "selfLink")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with seconds, as Kubernetes writes timestamps: `2026-11-27T14:00:00Z`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix() -> str:
    """Five characters as Kubernetes appends to a generateName (no vowels, no look-alikes)."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(GENERATED_SUFFIX_LEN))


def generate_name(prefix: str, suffix: str) -> str:
    return prefix[:_MAX_GENERATED_PREFIX] + suffix


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def prepare_create(resource: str, obj: dict, namespace: str | None,
                   now: datetime | None = None, uid: str | None = None,
                   suffix: Callable[[], str] = random_suffix) -> dict:
    """A copy of `obj` with the fields the server sets on create.

    Sets namespace (from the request; dropped for cluster-scoped resources), name from
    generateName, uid, creationTimestamp and generation; clears deletion fields and, for pods,
    services, RCs and namespaces, the status. Raises BadRequest when the body's namespace differs
    from the request's or a resourceVersion is set.
    """
    res = info(resource)
    out = copy.deepcopy(obj)
    meta = _meta(out)
    if meta.get("resourceVersion"):
        raise BadRequest("resourceVersion should not be set on objects to be created")
    _set_namespace(res.namespaced, meta, namespace)
    if not meta.get("name") and isinstance(meta.get("generateName"), str) and meta["generateName"]:
        meta["name"] = generate_name(meta["generateName"], suffix())
    for key in _SERVER_OWNED:
        meta.pop(key, None)
    meta["uid"] = uid or str(uuid.uuid4())
    meta["creationTimestamp"] = format_time(now or datetime.now(UTC))
    if res.name in GENERATION_RESOURCES:
        meta["generation"] = 1
    if res.name in STATUS_RESET_ON_CREATE:
        out["status"] = initial_status(res.name, out)
    if res.name == "namespaces":
        _namespace_create(out)
    return out


def _set_namespace(namespaced: bool, meta: dict, namespace: str | None) -> None:
    if not namespaced:
        meta.pop("namespace", None)
        return
    given = meta.get("namespace")
    if given and namespace and given != namespace:
        raise BadRequest("the namespace of the provided object does not match the namespace "
                         "sent on the request")
    if namespace:
        meta["namespace"] = namespace


def _namespace_create(obj: dict) -> None:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    finalizers = spec.get("finalizers") if isinstance(spec.get("finalizers"), list) else []
    if FINALIZER_KUBERNETES not in finalizers:
        finalizers = [*finalizers, FINALIZER_KUBERNETES]
    obj["spec"] = {**spec, "finalizers": finalizers}
    _label_namespace(obj)


def _label_namespace(obj: dict) -> None:
    meta = _meta(obj)
    if isinstance(meta.get("name"), str) and meta["name"]:
        labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        meta["labels"] = {**labels, NAMESPACE_NAME_LABEL: meta["name"]}


def prepare_update(resource: str, old: dict, new: dict, *, status_only: bool = False) -> dict:
    """A copy of `new` carrying what an update may not change from the stored `old`.

    `resource` is a main resource (`pods`: status kept from old) or a subresource (`pods/status`,
    same as `status_only=True`: spec kept from old; `namespaces/finalize`: only spec.finalizers
    taken from new). Keeps uid, creationTimestamp and deletion fields; bumps generation when the
    spec changed (compared with defaults applied, so callers may default before or after).
    Raises Conflict when `new` names another uid.
    """
    res = info(f"{resource.partition('/')[0]}/status" if status_only else resource)
    out = copy.deepcopy(new)
    meta, old_meta = _meta(out), old.get("metadata") or {}
    for key in ("name", "namespace"):
        if not meta.get(key) and old_meta.get(key):
            meta[key] = old_meta[key]
    if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
        raise Conflict(res.resource, str(meta.get("name", "")),
                       f"Precondition failed: UID in precondition: {meta['uid']}, "
                       f"UID in object meta: {old_meta.get('uid', '')}")
    for key in _SERVER_OWNED:
        meta.pop(key, None)
        if key in old_meta:
            meta[key] = copy.deepcopy(old_meta[key])
    _carry_parts(res.resource, res.subresource, old, out)
    if res.resource in GENERATION_RESOURCES and _spec_changed(res.resource, old, out):
        meta["generation"] = int(old_meta.get("generation") or 0) + 1
    if res.resource == "namespaces":
        _label_namespace(out)
    return out


def _spec_changed(resource: str, old: dict, new: dict) -> bool:
    return apply_defaults(resource, old).get("spec") != apply_defaults(resource, new).get("spec")


def _carry_parts(resource: str, subresource: str, old: dict, out: dict) -> None:
    """Which top-level parts an update through this endpoint may not touch."""
    if subresource == "finalize":
        finalizers = (out.get("spec") or {}).get("finalizers")
        out["spec"] = {**copy.deepcopy(old.get("spec") or {}), "finalizers": finalizers}
        kept = ("status",)
    elif subresource == "status":
        kept = ("spec",)
    elif info(resource).has_status:
        kept = ("status",)
    else:
        kept = ()
    for part in kept:
        out.pop(part, None)
        if part in old:
            out[part] = copy.deepcopy(old[part])
    if resource == "namespaces" and not subresource:
        out["spec"] = copy.deepcopy(old.get("spec") or {})
    if resource == "services" and not subresource:
        carry_allocations(old, out)


# --- validation of metadata -------------------------------------------------------------------

def validate_labels(labels: object, path: str) -> list[FieldError]:
    """Label keys must be qualified names and values valid label values."""
    errs: list[FieldError] = []
    if not isinstance(labels, dict):
        return errs
    for key, value in labels.items():
        errs += [fe.invalid(path, key, msg) for msg in names.qualified_name(key)]
        errs += [fe.invalid(path, value, msg) for msg in names.label_value(value or "")]
    return errs


def validate_annotations(annotations: object, path: str) -> list[FieldError]:
    """Annotation keys must be qualified names; all of them together at most 256 KiB."""
    errs: list[FieldError] = []
    if not isinstance(annotations, dict):
        return errs
    size = 0
    for key, value in annotations.items():
        errs += [fe.invalid(path, key, msg) for msg in names.qualified_name(key.lower())]
        size += len(key.encode()) + len((value or "").encode())
    if size > TOTAL_ANNOTATION_SIZE:
        errs.append(fe.too_long(path, TOTAL_ANNOTATION_SIZE))
    return errs


def validate_object_meta(resource: str, obj: dict) -> list[FieldError]:
    """Name (per the resource's rule), generateName, namespace, labels, annotations."""
    res = info(resource)
    meta = obj.get("metadata") or {}
    rule = NAME_RULES[res.resource]
    errs: list[FieldError] = []
    generate = meta.get("generateName") or ""
    if generate:
        errs += [fe.invalid("metadata.generateName", generate, msg)
                 for msg in rule(names.mask_trailing_dash(generate))]
    name = meta.get("name") or ""
    if not name:
        errs.append(fe.required("metadata.name", "name or generateName is required"))
    else:
        errs += [fe.invalid("metadata.name", name, msg) for msg in rule(name)]
    errs += _validate_namespace_field(res.namespaced, meta.get("namespace") or "")
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    errs += _validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return errs


def _validate_namespace_field(namespaced: bool, namespace: str) -> list[FieldError]:
    if not namespaced:
        return [fe.forbidden("metadata.namespace", "not allowed on this type")] if namespace else []
    if not namespace:
        return [fe.required("metadata.namespace")]
    return [fe.invalid("metadata.namespace", namespace, m) for m in names.dns1123_label(namespace)]


def _validate_finalizers(finalizers: object, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for finalizer in finalizers if isinstance(finalizers, list) else []:
        errs += [fe.invalid(path, finalizer or "", m)
                 for m in names.qualified_name(finalizer or "")]
    return errs


def validate_object_meta_update(new: dict, old: dict) -> list[FieldError]:
    """Name, namespace, uid and creationTimestamp may not change."""
    meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    errs = []
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if (meta.get(key) or "") != (old_meta.get(key) or ""):
            errs.append(fe.invalid(f"metadata.{key}", meta.get(key) or "", "field is immutable"))
    return errs
