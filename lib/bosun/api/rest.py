"""What the API server does for each verb, independent of HTTP: the apiserver's storage logic.

create/get/list/update/patch/delete/deletecollection/watch for every resource and the
subresources (status, scale, binding, log), with Kubernetes' defaults, validation, server-filled
fields, optimistic concurrency (resourceVersion) and Status errors. Controllers in the same process
write through this class too, so every write is validated the same way.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable, Iterator

from bosun.api import allocation, patchtypes, subresources
from bosun.api.paths import Target
from bosun.api.query import Continue, Query
from bosun.objects import defaults, meta, registry, schema, selectors, validation
from bosun.objects.status import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from bosun.store import Store, WatchEvent
from bosun.store import errors as store_errors

PATCH_RETRIES = 5


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class Api:
    """The API's verbs over one Store. Every method raises ApiError subclasses only."""

    def __init__(self, store: Store, *, service_cidr: str = "10.0.0.0/24",
                 node_port_range: tuple[int, int] = (30000, 32767),
                 clock: Callable[[], datetime.datetime] = utcnow,
                 logs: Callable[[dict, Query], Iterator[bytes]] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.allocator = allocation.Allocator(store, service_cidr, node_port_range)
        self._logs = logs

    def set_log_source(self, logs: Callable[[dict, Query], Iterator[bytes]]) -> None:
        """Where pods/log reads from (the kubelet, when this server runs one)."""
        self._logs = logs

    # -- helpers -------------------------------------------------------------------------------
    def now(self) -> datetime.datetime:
        return self.clock()

    def healthy(self) -> bool:
        return self.store.healthy()

    @staticmethod
    def namespaced(resource: str) -> bool | None:
        info = registry.RESOURCES.get(resource)
        return None if info is None else info.namespaced

    def ensure_default_namespaces(self) -> None:
        for name in ("default", "kube-system", "kube-public"):
            try:
                self.create(Target("namespaces"), {"metadata": {"name": name}}, Query())
            except AlreadyExists:
                pass

    @staticmethod
    def _key(resource: str, namespace: str | None, name: str) -> str:
        return f"{Api._prefix(resource, namespace)}{name}"

    @staticmethod
    def _prefix(resource: str, namespace: str | None) -> str:
        return f"/registry/{resource}/{namespace}/" if namespace else f"/registry/{resource}/"

    def _store_call(self, resource: str, name: str, fn, *args):
        """A store call with its errors turned into the API's Status errors."""
        try:
            return fn(*args)
        except store_errors.NotFound:
            raise NotFound(resource, name) from None
        except store_errors.AlreadyExists:
            raise AlreadyExists(resource, name) from None
        except store_errors.Conflict:
            raise Conflict(resource, name) from None
        except store_errors.Gone as error:
            raise Gone(str(error)) from None
        except store_errors.StoreUnavailable as error:
            raise ServiceUnavailable(f"etcd is not answering: {error}") from None

    def _check_namespace(self, target: Target, obj: dict) -> str | None:
        """The namespace an object goes to; the body's must agree with the path's."""
        if not registry.RESOURCES[target.resource].namespaced:
            return None
        body_ns = (obj.get("metadata") or {}).get("namespace")
        namespace = target.namespace or body_ns
        if namespace is None:
            raise BadRequest("the namespace of the provided object does not match the namespace"
                             " sent on the request") if body_ns else BadRequest(
                "a namespace is required for a namespaced resource")
        if body_ns and target.namespace and body_ns != target.namespace:
            raise BadRequest("the namespace of the provided object does not match the namespace"
                             " sent on the request")
        return namespace

    def _require_namespace_exists(self, namespace: str | None) -> None:
        if namespace is None:
            return
        self._store_call("namespaces", namespace, self.store.get,
                         self._key("namespaces", None, namespace))

    @staticmethod
    def _decode(kind: str, obj: dict, query: Query) -> tuple[dict, list[str]]:
        """The body as a `kind`, as Kubernetes decodes it: wrong field types are a 400;
        unknown fields a 400 under Strict, warnings under Warn, and dropped in any case."""
        if obj.get("apiVersion", "v1") != "v1" or obj.get("kind", kind) != kind:
            raise BadRequest(f"the object provided is unrecognized (must be of type {kind}): "
                             f"{obj.get('apiVersion')}, Kind={obj.get('kind')}")
        errors = schema.type_errors(kind, obj)
        if errors:
            raise schema.decode_error(kind, errors)
        unknown = [] if query.field_validation == "Ignore" else schema.unknown_fields(kind, obj)
        if unknown and query.field_validation == "Strict":
            raise schema.strict_decoding_error(kind, unknown)
        cleaned = schema.prune_unknown(kind, obj)
        cleaned.setdefault("apiVersion", "v1")
        cleaned.setdefault("kind", kind)
        return cleaned, schema.unknown_field_warnings(unknown)

    def store_update(self, resource: str, namespace: str | None, name: str, obj: dict,
                     resource_version: str) -> dict:
        """Write obj over its stored version resource_version (409 if it moved on)."""
        return self._store_call(resource, name, self.store.update,
                                self._key(resource, namespace, name), obj, resource_version)

    # -- create --------------------------------------------------------------------------------
    def create(self, target: Target, body: dict, query: Query) -> tuple[dict, list[str]]:
        if target.subresource is not None:
            return subresources.create(self, target, body, query), []
        if target.name is not None:
            raise MethodNotAllowed(target.resource, "create")
        info = registry.RESOURCES[target.resource]
        body, warnings = self._decode(info.kind, body, query)
        namespace = self._check_namespace(target, body)
        self._require_namespace_exists(namespace)
        obj = meta.prepare_create(target.resource, body, namespace, self.now(),
                                  str(uuid.uuid4()))
        obj = defaults.apply_defaults(target.resource, obj)
        validation.validate(target.resource, obj)
        name = obj["metadata"]["name"]
        with self.allocator.for_create(target.resource, obj, dry_run=query.dry_run):
            if query.dry_run:
                return obj, warnings
            stored = self._store_call(target.resource, name, self.store.create,
                                      self._key(target.resource, namespace, name), obj)
        return stored, warnings

    # -- read ----------------------------------------------------------------------------------
    def get(self, target: Target, query: Query | None = None) -> dict:
        if target.subresource is not None:
            return subresources.get(self, target)
        return self.read(target.resource, target.namespace, target.name)

    def read(self, resource: str, namespace: str | None, name: str) -> dict:
        return self._store_call(resource, name, self.store.get,
                                self._key(resource, namespace, name))

    @staticmethod
    def _selectors(target: Target, query: Query):
        """The request's label and field selectors. Raises BadRequest when malformed."""
        try:
            return (selectors.parse_label_selector(query.label_selector),
                    selectors.parse_field_selector(target.resource, query.field_selector))
        except selectors.InvalidSelector as error:
            raise BadRequest(str(error)) from None

    def list(self, target: Target, query: Query) -> dict:
        info = registry.RESOURCES[target.resource]
        labels, fields = self._selectors(target, query)
        prefix = self._prefix(target.resource, target.namespace)
        objects, revision = self._store_call(target.resource, "", self.store.list, prefix)
        start = Continue.decode(query.continue_token).after_key if query.continue_token else ""
        items, last_key = [], None
        for obj in objects:
            key = self._key(target.resource, obj["metadata"].get("namespace"),
                            obj["metadata"]["name"])
            if key <= start:
                continue
            if labels.matches(obj["metadata"].get("labels") or {}) and fields.matches(obj):
                if query.limit and len(items) == query.limit:
                    break
                items.append(obj)
                last_key = key
        else:
            last_key = None
        list_meta: dict = {"resourceVersion": str(revision)}
        if last_key is not None and query.limit:
            list_meta["continue"] = Continue(revision, last_key).encode()
        return {"kind": f"{info.kind}List", "apiVersion": "v1", "metadata": list_meta,
                "items": items}

    def watch(self, target: Target, query: Query) -> WatchStream:
        labels, fields = self._selectors(target, query)
        prefix = self._prefix(target.resource, target.namespace)
        if query.resource_version in ("", "0"):
            # Kubernetes starts such a watch with ADDED events for what exists now.
            snapshot, revision = self._store_call(target.resource, "", self.store.list, prefix)
        else:
            try:
                revision = int(query.resource_version)
            except ValueError:
                raise BadRequest(f"invalid resourceVersion {query.resource_version!r}") from None
            snapshot = []
        stream = self._store_call(target.resource, "", self.store.watch, prefix, revision)
        return WatchStream(target.resource, stream, snapshot, lambda o: labels.matches(
            o["metadata"].get("labels") or {}) and fields.matches(o))

    # -- update --------------------------------------------------------------------------------
    def update(self, target: Target, body: dict, query: Query) -> tuple[dict, list[str]]:
        if target.name is None:
            raise MethodNotAllowed(target.resource, "update")
        info = registry.RESOURCES[target.resource]
        if target.subresource == "scale":
            return subresources.update_scale(self, target, body, query), []
        if target.subresource not in (None, "status"):
            raise MethodNotAllowed(f"{target.resource}/{target.subresource}", "update")
        body, warnings = self._decode(info.kind, body, query)
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != target.name:
            raise BadRequest(f"the name of the object ({body_name}) does not match the name on "
                             f"the URL ({target.name})")
        expected_rv = (body.get("metadata") or {}).get("resourceVersion") or None
        old = self.read(target.resource, target.namespace, target.name)
        return self._write_update(target, old, copy.deepcopy(body), expected_rv,
                                  query), warnings

    def _write_update(self, target: Target, old: dict, new: dict, expected_rv: str | None,
                      query: Query) -> dict:
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        new["metadata"].setdefault("name", target.name)
        endpoint = target.resource if target.subresource is None else \
            f"{target.resource}/{target.subresource}"
        obj = meta.prepare_update(endpoint, old, new)
        obj = defaults.apply_defaults(target.resource, obj)
        validation.validate(endpoint, obj, old)
        with self.allocator.for_update(target.resource, old, obj, dry_run=query.dry_run):
            if query.dry_run:
                return obj
            return self._store_call(
                target.resource, target.name, self.store.update,
                self._key(target.resource, target.namespace, target.name), obj,
                expected_rv or old["metadata"]["resourceVersion"])

    def patch(self, target: Target, patch_type: str, patch: object,
              query: Query) -> tuple[dict, list[str]]:
        if target.name is None:
            raise MethodNotAllowed(target.resource, "patch")
        if patch_type not in patchtypes.PATCH_TYPES:
            # Server-side apply included: kubectl then says it is not available.
            raise UnsupportedMediaType(patchtypes.PATCH_TYPES)
        if target.subresource == "scale":
            return subresources.patch_scale(self, target, patch_type, patch, query), []
        if target.subresource not in (None, "status"):
            raise MethodNotAllowed(f"{target.resource}/{target.subresource}", "patch")
        info = registry.RESOURCES[target.resource]
        for attempt in range(PATCH_RETRIES):
            old = self.read(target.resource, target.namespace, target.name)
            new, warnings = self._decode(info.kind, patchtypes.apply(patch_type, info.kind, old,
                                                                     patch), query)
            pinned = _pinned_version(patch)
            try:
                return self._write_update(target, old, new, pinned, query), warnings
            except Conflict:
                if pinned or attempt == PATCH_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- delete --------------------------------------------------------------------------------
    def delete(self, target: Target, query: Query, options: dict) -> dict:
        if target.subresource is not None:
            raise MethodNotAllowed(f"{target.resource}/{target.subresource}", "delete")
        key = self._key(target.resource, target.namespace, target.name)
        old = self.read(target.resource, target.namespace, target.name)
        _check_preconditions(target, old, options)
        if query.dry_run or "All" in (options.get("dryRun") or ()):
            return old
        if target.resource == "namespaces":
            self._delete_namespace_contents(target.name)
        if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents"):
            self._orphan_dependents(old)
        deleted = self._store_call(target.resource, target.name, self.store.delete, key,
                                   options.get("preconditions", {}).get("resourceVersion"))
        self.allocator.release(target.resource, deleted)
        return deleted

    def delete_collection(self, target: Target, query: Query, options: dict) -> dict:
        listed = self.list(target, query)
        for obj in listed["items"]:
            one = Target(target.resource, obj["metadata"].get("namespace"),
                         obj["metadata"]["name"])
            try:
                self.delete(one, query, {})
            except NotFound:
                pass  # someone else deleted it meanwhile: the collection is gone either way
        return listed

    def _orphan_dependents(self, owner: dict) -> None:
        """`--cascade=orphan`: the owner's pods lose their ownerReference to it, so the garbage
        collector leaves them alone once the owner is gone."""
        uid, namespace = owner["metadata"]["uid"], owner["metadata"].get("namespace")
        pods = self.list(Target("pods", namespace), Query())["items"]
        for pod in pods:
            refs = pod["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in refs):
                patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid}]}}
                try:
                    self.patch(Target("pods", namespace, pod["metadata"]["name"]),
                               patchtypes.STRATEGIC, patch, Query())
                except NotFound:
                    pass

    def _delete_namespace_contents(self, namespace: str) -> None:
        for resource, info in registry.RESOURCES.items():
            if info.namespaced:
                self.delete_collection(Target(resource, namespace), Query(), {})

    # -- logs ----------------------------------------------------------------------------------
    def logs(self, target: Target, query: Query) -> Iterator[bytes]:
        pod = self.read("pods", target.namespace, target.name)
        if self._logs is None:
            raise BadRequest(f'pod "{target.name}" has no logs to show: the kubelet is not '
                             f"running in this server")
        return self._logs(pod, query)


class WatchStream:
    """Events for one watch: ADDED for a starting snapshot, then the store's, filtered."""

    def __init__(self, resource: str, stream, snapshot: list[dict],
                 matches: Callable[[dict], bool]) -> None:
        self.resource = resource
        self.stream = stream
        self.snapshot = snapshot
        self.matches = matches

    def __iter__(self) -> Iterator[WatchEvent]:
        for obj in self.snapshot:
            if self.matches(obj):
                meta = obj["metadata"]
                yield WatchEvent("ADDED", obj, int(meta["resourceVersion"]),
                                 Api._key(self.resource, meta.get("namespace"), meta["name"]))
        try:
            for event in self.stream:
                if self.matches(event.object):
                    yield event
        except store_errors.Gone as error:
            raise Gone(str(error)) from None
        except store_errors.StoreUnavailable as error:
            raise ServiceUnavailable(f"etcd is not answering: {error}") from None

    def close(self) -> None:
        self.stream.close()


def _pinned_version(patch: object) -> str | None:
    if isinstance(patch, dict):
        return (patch.get("metadata") or {}).get("resourceVersion") or None
    return None


def _check_preconditions(target: Target, old: dict, options: dict) -> None:
    pre = options.get("preconditions") or {}
    uid, rv = pre.get("uid"), pre.get("resourceVersion")
    if uid and uid != old["metadata"].get("uid"):
        raise Conflict(target.resource, target.name,
                       f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                       f"{old['metadata'].get('uid')}")
    if rv and rv != old["metadata"].get("resourceVersion"):
        raise Conflict(target.resource, target.name)


