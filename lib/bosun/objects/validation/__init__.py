"""Validation of objects sent to the API: `validate(resource, obj, old)` raises Invalid naming
every bad field, as a Kubernetes API server answers a create or an update with 422.

It expects what the API stores: an object after `defaults.apply_defaults` and the `meta.prepare_*`
step (fields that defaults fill may also be absent). It first checks JSON types against the
schema, so the per-resource validators (pods, services, controllers, cluster) never meet a string
where a list belongs; then it adds every field Kubernetes' OpenAPI requires that is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from bosun.objects import schema
from bosun.objects.fielderrors import FieldError, merge_unique
from bosun.objects.registry import UnknownResource, info
from bosun.objects.status import Invalid
from bosun.objects.validation.cluster import (
    validate_endpoints,
    validate_event,
    validate_namespace,
    validate_node,
)
from bosun.objects.validation.controllers import (
    selector_matches,
    validate_replication_controller,
    validate_replication_controller_status,
    validate_scale,
)
from bosun.objects.validation.pods import (
    validate_binding,
    validate_eviction,
    validate_pod,
    validate_pod_spec,
    validate_pod_status,
)
from bosun.objects.validation.services import validate_service, validate_service_status

Validator = Callable[[dict, "dict | None"], list[FieldError]]

VALIDATORS: dict[str, Validator] = {
    "pods": validate_pod,
    "pods/status": validate_pod_status,
    "pods/binding": validate_binding,
    "pods/eviction": validate_eviction,
    "services": validate_service,
    "services/status": validate_service_status,
    "replicationcontrollers": validate_replication_controller,
    "replicationcontrollers/status": validate_replication_controller_status,
    "replicationcontrollers/scale": validate_scale,
    "namespaces": validate_namespace,
    "namespaces/status": validate_namespace,
    "namespaces/finalize": validate_namespace,
    "nodes": validate_node,
    "nodes/status": validate_node,
    "endpoints": validate_endpoints,
    "events": validate_event,
}


def _unchecked_parts(resource: str) -> frozenset[str]:
    """Top-level parts the server replaces on this endpoint, so not searched for required
    fields: status on a main resource (except nodes), spec on /status, status of a Scale."""
    res = info(resource)
    if res.subresource == "status":
        return frozenset({"spec"})
    if res.subresource == "scale" or (res.has_status and res.name != "nodes"):
        return frozenset({"status"})
    return frozenset()


def validate(resource: str, obj: object, old: dict | None = None) -> None:
    """Check `obj` for a create (`old` None) or an update of `old` through `resource`
    (`pods`, `pods/status`, `replicationcontrollers/scale`, ...).

    Raises Invalid listing every bad field; UnknownResource for a resource that takes no body.
    """
    res = info(resource)
    validator = VALIDATORS.get(res.name)
    if validator is None:
        raise UnknownResource(resource)
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    name = name if isinstance(name, str) else ""
    errs = schema.type_errors(res.kind, obj)
    if errs or not isinstance(obj, dict):
        raise Invalid(res.kind, name, errs)
    errs = validator(obj, old)
    errs = merge_unique(errs, schema.missing_required(res.kind, obj, _unchecked_parts(resource)))
    if errs:
        raise Invalid(res.kind, name, errs)


__all__ = ["VALIDATORS", "selector_matches", "validate", "validate_pod_spec"]
