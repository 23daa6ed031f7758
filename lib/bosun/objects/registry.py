"""The resources Bosun serves under `/api/v1`, and the discovery document that lists them.

One ResourceInfo per resource and subresource: the names kubectl resolves (`po`, `pod`, `pods`),
the kind, scope and verbs. `api_resource_list()` is the APIResourceList kubectl reads from
`GET /api/v1` to learn all of this.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceInfo:
    """A resource (`pods`) or subresource (`pods/status`) of the API."""

    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    singular_name: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    group: str = ""
    version: str = "v1"
    has_status: bool = False

    @property
    def resource(self) -> str:
        """The main resource: `pods` for both `pods` and `pods/status`."""
        return self.name.partition("/")[0]

    @property
    def subresource(self) -> str:
        """`status` for `pods/status`, empty for a main resource."""
        return self.name.partition("/")[2]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def storage_version_hash(self) -> str:
        """Kubernetes' hash of group/version/kind: 8 bytes of SHA-256, base64."""
        digest = hashlib.sha256(f"{self.group}/{self.version}/{self.kind}".encode()).digest()
        return base64.b64encode(digest[:8]).decode()

    def discovery_entry(self) -> dict:
        """This resource's entry in an APIResourceList."""
        entry: dict = {"name": self.name, "singularName": self.singular_name,
                       "namespaced": self.namespaced}
        if self.subresource and (self.group, self.version) != ("", "v1"):
            entry["group"], entry["version"] = self.group, self.version
        entry["kind"] = self.kind
        entry["verbs"] = list(self.verbs)
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        if not self.subresource:
            entry["storageVersionHash"] = self.storage_version_hash()
        return entry


def _main(name: str, singular: str, kind: str, namespaced: bool, short: str,
          verbs: tuple[str, ...] = ALL_VERBS, all_category: bool = False,
          has_status: bool = True) -> ResourceInfo:
    return ResourceInfo(name, kind, namespaced, verbs, singular, (short,),
                        ("all",) if all_category else (), has_status=has_status)


RESOURCES: dict[str, ResourceInfo] = {r.name: r for r in (
    _main("namespaces", "namespace", "Namespace", False, "ns",
          verbs=tuple(v for v in ALL_VERBS if v != "deletecollection")),
    _main("pods", "pod", "Pod", True, "po", all_category=True),
    _main("services", "service", "Service", True, "svc", all_category=True),
    _main("replicationcontrollers", "replicationcontroller", "ReplicationController", True, "rc",
          all_category=True),
    _main("nodes", "node", "Node", False, "no"),
    _main("endpoints", "endpoints", "Endpoints", True, "ep", has_status=False),
    _main("events", "event", "Event", True, "ev", has_status=False),
)}

SUBRESOURCES: dict[str, ResourceInfo] = {r.name: r for r in (
    ResourceInfo("pods/status", "Pod", True, STATUS_VERBS),
    ResourceInfo("pods/binding", "Binding", True, ("create",)),
    ResourceInfo("pods/eviction", "Eviction", True, ("create",), group="policy"),
    ResourceInfo("pods/log", "Pod", True, ("get",)),
    ResourceInfo("replicationcontrollers/scale", "Scale", True, STATUS_VERBS, group="autoscaling"),
    ResourceInfo("replicationcontrollers/status", "ReplicationController", True, STATUS_VERBS),
    ResourceInfo("nodes/status", "Node", False, STATUS_VERBS),
    ResourceInfo("services/status", "Service", True, STATUS_VERBS),
    ResourceInfo("namespaces/status", "Namespace", False, STATUS_VERBS),
    ResourceInfo("namespaces/finalize", "Namespace", False, ("update",)),
)}


class UnknownResource(KeyError):
    """A name that is no resource, subresource, short name or kind Bosun serves."""


def info(name: str) -> ResourceInfo:
    """ResourceInfo of `pods` or `pods/status`. Raises UnknownResource."""
    found = RESOURCES.get(name) or SUBRESOURCES.get(name)
    if found is None:
        raise UnknownResource(name)
    return found


def resolve(name: str) -> ResourceInfo:
    """The main resource a user means by `po`, `pod`, `pods`, `Pod` or `pods.v1`, as kubectl
    resolves them. Raises UnknownResource."""
    wanted = name.lower().removesuffix(".v1").removesuffix(".")
    for resource in RESOURCES.values():
        if wanted in (resource.name, resource.singular_name, resource.kind.lower(),
                      *resource.short_names):
            return resource
    raise UnknownResource(name)


def by_kind(kind: str) -> ResourceInfo:
    """The main resource whose objects are of `kind` (`Pod` -> pods). Raises UnknownResource."""
    for resource in RESOURCES.values():
        if resource.kind == kind:
            return resource
    raise UnknownResource(kind)


def api_resource_list() -> dict:
    """The APIResourceList served at `GET /api/v1`, entries sorted by name as Kubernetes does."""
    entries = [r.discovery_entry() for r in (*RESOURCES.values(), *SUBRESOURCES.values())]
    return {"kind": "APIResourceList", "groupVersion": "v1",
            "resources": sorted(entries, key=lambda e: e["name"])}
