"""Subresources: pods/binding, pods/eviction (policy/v1), replicationcontrollers/scale
(autoscaling/v1 Scale), */status.

Each reads the parent object, changes only what the subresource owns, and writes it back with
the parent's resourceVersion, so a concurrent write is a 409 rather than a lost update.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from bosun.api import patchtypes
from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.objects import subresources as shapes
from bosun.objects import validation
from bosun.objects.status import BadRequest, Conflict, MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from bosun.api.rest import Api

PATCH_RETRIES = 5
STATUS_RESOURCES = frozenset({"pods", "services", "replicationcontrollers", "nodes",
                              "namespaces"})


def check_known(target: Target) -> None:
    sub, resource = target.subresource, target.resource
    ok = (sub == "status" and resource in STATUS_RESOURCES) or (
        sub == "scale" and resource == "replicationcontrollers") or (
        sub in ("binding", "eviction", "log") and resource == "pods")
    if not ok:
        raise NotFound.path()


def get(api: Api, target: Target) -> dict:
    check_known(target)
    obj = api.read(target.resource, target.namespace, target.name)
    if target.subresource == "scale":
        return shapes.scale_of(obj)
    if target.subresource == "status":
        return obj
    raise MethodNotAllowed(f"{target.resource}/{target.subresource}", "get")


def create(api: Api, target: Target, body: dict, query: Query) -> dict:
    check_known(target)
    if target.subresource == "binding":
        return bind(api, target, body, query)
    if target.subresource == "eviction":
        return evict(api, target, body, query)
    raise MethodNotAllowed(f"{target.resource}/{target.subresource}", "create")


def bind(api: Api, target: Target, binding: dict, query: Query) -> dict:
    """POST pods/NAME/binding: set spec.nodeName of a pod that has none yet."""
    binding = copy.deepcopy(binding)
    binding.setdefault("metadata", {}).setdefault("name", target.name)
    binding["metadata"].setdefault("namespace", target.namespace)
    validation.validate("pods/binding", binding)
    pod = api.read("pods", target.namespace, target.name)
    bound = shapes.apply_binding(pod, binding, api.now())
    if not query.dry_run:
        api.store_update("pods", target.namespace, target.name, bound,
                         pod["metadata"]["resourceVersion"])
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "code": 201}


def evict(api: Api, target: Target, eviction: dict, query: Query) -> dict:
    """POST pods/NAME/eviction (what `kubectl drain` sends): delete the pod with the Eviction's
    deleteOptions. Bosun has no PodDisruptionBudgets, so an eviction is never refused (429).
    Raises BadRequest when the Eviction names another pod, NotFound, Conflict (preconditions)."""
    meta = eviction.get("metadata") if isinstance(eviction.get("metadata"), dict) else {}
    if meta.get("name") not in (None, target.name):
        raise BadRequest("name in URL does not match name in Eviction object")
    if meta.get("namespace") not in (None, target.namespace):
        raise BadRequest("the namespace of the provided object does not match the namespace "
                         "sent on the request")
    validation.validate("pods/eviction", {**eviction, "metadata": {
        **meta, "name": target.name, "namespace": target.namespace}})
    options = eviction.get("deleteOptions") or {}
    api.delete(Target("pods", target.namespace, target.name), query, options)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "code": 201}


def _write_scale(api: Api, target: Target, rc: dict, scale: dict, query: Query) -> dict:
    scale.setdefault("metadata", {}).setdefault("name", target.name)
    scale["metadata"].setdefault("namespace", target.namespace)
    validation.validate("replicationcontrollers/scale", scale)
    scaled = shapes.apply_scale(rc, scale)
    if scaled == rc or query.dry_run:
        return shapes.scale_of(scaled)
    scaled["metadata"]["generation"] = rc["metadata"].get("generation", 1) + 1
    stored = api.store_update(target.resource, target.namespace, target.name, scaled,
                              rc["metadata"]["resourceVersion"])
    return shapes.scale_of(stored)


def update_scale(api: Api, target: Target, body: dict, query: Query) -> dict:
    check_known(target)
    rc = api.read(target.resource, target.namespace, target.name)
    return _write_scale(api, target, rc, copy.deepcopy(body), query)


def patch_scale(api: Api, target: Target, patch_type: str, patch: object,
                query: Query) -> dict:
    """Patch the Scale; like any patch, retried on a concurrent write (the replication
    manager writes the RC's status all the time) unless the patch names a resourceVersion."""
    check_known(target)
    pinned = isinstance(patch, dict) and bool((patch.get("metadata") or {}).get(
        "resourceVersion"))
    for attempt in range(PATCH_RETRIES):
        rc = api.read(target.resource, target.namespace, target.name)
        patched = patchtypes.apply(patch_type, "Scale", shapes.scale_of(rc), patch)
        try:
            return _write_scale(api, target, rc, patched, query)
        except Conflict:
            if pinned or attempt == PATCH_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
