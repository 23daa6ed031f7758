"""The endpoints controller's decision for one Service, as Kubernetes 1.32's endpoints controller
builds the Endpoints object.

Pure: the Service, the pods and the Endpoints the API has in; `WriteEndpoints`,
`DeleteEndpoints` or None out. Only services with a selector get Endpoints from here (without
one they are the user's to write; ExternalName services get none). The proxy renders haproxy from
the result, so an unchanged service must give no write: equal Endpoints compare equal.

What each pod contributes: an address (the pod IP of the service's IP family, nodeName, hostname
when the pod's subdomain names the service, a targetRef to the pod without resourceVersion - the
1.32 controller leaves it out so pod updates do not churn Endpoints) under `addresses` when ready
or the service publishes not-ready addresses, else under `notReadyAddresses`; and one port per
service port the pod has (a named targetPort is looked up in the pod's containers' ports with the
same protocol; a pod without it is left out for that port only).

Subsets are packed as Kubernetes' RepackSubsets packs them: ports that reach the same set of
addresses share a subset; an address not ready on a port is not ready there even if another port
says ready. Kubernetes then orders ports and subsets by a hash of their Go values (stable but
arbitrary); Bosun orders them readably - addresses by IP then pod uid (as Kubernetes), ports by
name, number, protocol, subsets by their ports then addresses - so the same input always gives
the same object. Consumers must not read meaning into the order.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bosun.controllers.model import (
    WARNING,
    Event,
    Obj,
    is_deleting,
    is_ready,
    is_terminal,
    key_of,
    meta,
    name_of,
    uid_of,
)
from bosun.objects.selectors import selector_from_set

HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"
# Kubernetes keeps at most this many addresses in one Endpoints (EndpointSlices hold the rest).
MAX_CAPACITY = 1000


@dataclass(frozen=True)
class WriteEndpoints:
    """Create (`create`) or update `endpoints`; an update carries the current resourceVersion."""

    endpoints: Obj
    create: bool

    def event(self, result: Obj | None = None) -> Event | None:
        return None

    def failure_event(self, error: str) -> Event:
        """FailedToCreateEndpoint / FailedToUpdateEndpoint on the Endpoints, as Kubernetes."""
        m = meta(self.endpoints)
        where = f"{m.get('namespace') or ''}/{m.get('name') or ''}"
        if self.create:
            return Event(self.endpoints, WARNING, "FailedToCreateEndpoint",
                         f"Failed to create endpoint for service {where}: {error}")
        return Event(self.endpoints, WARNING, "FailedToUpdateEndpoint",
                     f"Failed to update endpoint {where}: {error}")


@dataclass(frozen=True)
class DeleteEndpoints:
    """Delete the Endpoints of a service that is gone."""

    namespace: str
    name: str

    def event(self, result: Obj | None = None) -> Event | None:
        return None


Action = WriteEndpoints | DeleteEndpoints


def plan(service: Obj | None, pods: Iterable[Obj], current: Obj | None) -> Action | None:
    """What to do with the Endpoints of `service` (None when the service is gone: then delete
    `current`). `pods` may be every pod of the cluster. None when nothing is to change."""
    if service is None:
        if current is None:
            return None
        return DeleteEndpoints(meta(current).get("namespace") or "", name_of(current))
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return None
    desired = endpoints_for(service, pods, current)
    if current is not None and _equal(current, desired):
        return None
    return WriteEndpoints(desired, create=current is None)


def endpoints_for(service: Obj, pods: Iterable[Obj], current: Obj | None = None) -> dict:
    """The Endpoints object for `service` (a service with a selector). Metadata other than
    labels comes from `current` when there is one (resourceVersion for the update, annotations
    minus the trigger time Bosun does not write)."""
    subsets, truncated = truncate(subsets_for(service, pods))
    labels = dict(meta(service).get("labels") or {})
    if _ip_set(service):
        labels.pop(HEADLESS_LABEL, None)
    else:
        labels[HEADLESS_LABEL] = ""
    if current is not None:
        new_meta = copy.deepcopy(dict(meta(current)))
    else:
        new_meta = {"name": name_of(service), "namespace": meta(service).get("namespace") or ""}
    annotations = {k: v for k, v in (new_meta.get("annotations") or {}).items()
                   if k not in (TRIGGER_TIME_ANNOTATION, OVER_CAPACITY_ANNOTATION)}
    if truncated:
        annotations[OVER_CAPACITY_ANNOTATION] = "truncated"
    _set_or_drop(new_meta, "annotations", annotations)
    _set_or_drop(new_meta, "labels", labels)
    endpoints: dict = {"apiVersion": "v1", "kind": "Endpoints", "metadata": new_meta}
    if subsets:
        endpoints["subsets"] = subsets
    return endpoints


def _set_or_drop(target: dict, key: str, value: dict | list) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def _ip_set(service: Obj) -> bool:
    cluster_ip = (service.get("spec") or {}).get("clusterIP") or ""
    return cluster_ip not in ("", "None")


# -- addresses and ports ---------------------------------------------------------------------------

Entry = tuple[dict, bool, dict | None]  # address, ready, port (None: headless without ports)


def subsets_for(service: Obj, pods: Iterable[Obj]) -> list[dict]:
    """The packed, ordered subsets of `service` over `pods` (before truncation)."""
    spec = service.get("spec") or {}
    namespace = meta(service).get("namespace") or ""
    selector = selector_from_set(spec.get("selector"))
    publish = bool(spec.get("publishNotReadyAddresses"))
    service_ports = spec.get("ports") or []
    entries: list[Entry] = []
    for pod in sorted(pods, key=key_of):
        if (meta(pod).get("namespace") or "") != namespace or not _serves(pod, publish) \
                or not selector.matches(meta(pod).get("labels")):
            continue
        address = pod_address(service, pod)
        if address is None:
            continue
        ready = publish or is_ready(pod)
        if not service_ports:
            if spec.get("clusterIP") == "None":
                entries.append((address, ready, None))
            continue
        for service_port in service_ports:
            number = find_port(pod, service_port)
            if number is not None:
                entries.append((address, ready, _endpoint_port(service_port, number)))
    return repack(entries)


def _serves(pod: Obj, include_terminating: bool) -> bool:
    """Kubernetes' ShouldPodBeInEndpoints: not finished, has an IP, not being deleted (unless
    the service publishes not-ready addresses)."""
    status = pod.get("status") or {}
    if is_terminal(pod) or not (status.get("podIP") or status.get("podIPs")):
        return False
    return include_terminating or not is_deleting(pod)


def pod_address(service: Obj, pod: Obj) -> dict | None:
    """The pod's EndpointAddress for `service`, None when it has no IP of the service's family.

    The family is the service's first ipFamilies entry, else its clusterIP's, else (headless)
    the pod IP's. Kubernetes reads status.podIPs only; Bosun falls back to status.podIP.
    """
    spec, status = service.get("spec") or {}, pod.get("status") or {}
    families = spec.get("ipFamilies") or []
    if families:
        want_v6 = families[0] == "IPv6"
    elif _ip_set(service):
        want_v6 = ":" in spec["clusterIP"]
    else:
        want_v6 = ":" in (status.get("podIP") or "")
    ips = [entry.get("ip") for entry in status.get("podIPs") or ()
           if isinstance(entry, Mapping) and entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    ip = next((ip for ip in ips if (":" in ip) == want_v6), None)
    if ip is None:
        return None
    pod_meta, pod_spec = meta(pod), pod.get("spec") or {}
    address: dict[str, Any] = {"ip": ip}
    if pod_spec.get("hostname") and pod_spec.get("subdomain") == name_of(service):
        address["hostname"] = pod_spec["hostname"]
    if pod_spec.get("nodeName"):
        address["nodeName"] = pod_spec["nodeName"]
    address["targetRef"] = {"kind": "Pod", "namespace": pod_meta.get("namespace") or "",
                            "name": name_of(pod), "uid": uid_of(pod)}
    return address


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """The pod's port for a service port: targetPort as a number, or the containerPort of the
    container port named targetPort with the service port's protocol (app containers first,
    then restartable init containers); None when the pod has no such port."""
    target = service_port.get("targetPort") or service_port.get("port")
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if not isinstance(target, str):
        return None
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    containers = [*(spec.get("containers") or ()), *sidecars]
    for container in containers:
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return port.get("containerPort")
    return None


def _endpoint_port(service_port: Obj, number: int) -> dict:
    port: dict[str, Any] = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port.update(port=number, protocol=service_port.get("protocol") or "TCP")
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


# -- packing ---------------------------------------------------------------------------------------

def _address_key(address: Obj) -> tuple[str, str]:
    return address.get("ip") or "", (address.get("targetRef") or {}).get("uid") or ""


def _port_key(port: Obj) -> tuple[str, int, str, str]:
    return (port.get("name") or "", int(port.get("port") or 0), port.get("protocol") or "",
            port.get("appProtocol") or "")


def repack(entries: Iterable[Entry]) -> list[dict]:
    """Kubernetes' RepackSubsets: one subset per distinct set of (address, ready) the ports reach.
    """
    addresses: dict[tuple[str, str], dict] = {}
    ports: dict[tuple | None, dict | None] = {}
    reach: dict[tuple | None, dict[tuple[str, str], bool]] = {}
    for address, ready, port in entries:
        akey = _address_key(address)
        addresses.setdefault(akey, address)
        pkey = None if port is None else _port_key(port)
        ports.setdefault(pkey, port)
        members = reach.setdefault(pkey, {})
        members[akey] = members.get(akey, True) and ready  # not ready wins
    groups: dict[frozenset, list[dict]] = {}
    for pkey, members in reach.items():
        group = groups.setdefault(frozenset(members.items()), [])
        if pkey is not None:
            group.append(ports[pkey])  # type: ignore[arg-type]
    subsets = [_subset(members, group_ports, addresses) for members, group_ports in groups.items()]
    return sorted(subsets, key=_subset_key)


def _subset(members: frozenset, group_ports: list[dict],
            addresses: Mapping[tuple[str, str], dict]) -> dict:
    subset: dict[str, list] = {}
    for key, ready in (("addresses", True), ("notReadyAddresses", False)):
        chosen = sorted(akey for akey, is_ready_there in members if is_ready_there == ready)
        if chosen:
            subset[key] = [copy.deepcopy(addresses[akey]) for akey in chosen]
    if group_ports:
        subset["ports"] = sorted((copy.deepcopy(p) for p in group_ports), key=_port_key)
    return subset


def _subset_key(subset: Obj) -> tuple:
    return (tuple(_port_key(p) for p in subset.get("ports") or ()),
            tuple(_address_key(a) for a in subset.get("addresses") or ()),
            tuple(_address_key(a) for a in subset.get("notReadyAddresses") or ()))


def truncate(subsets: list[dict]) -> tuple[list[dict], bool]:
    """Kubernetes' truncateEndpoints: over MAX_CAPACITY addresses, keep ready ones first and cut
    each subset in proportion to its share. Returns the subsets and whether any were cut."""
    ready = sum(len(s.get("addresses") or ()) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    if ready + not_ready <= MAX_CAPACITY:
        return subsets, False
    cut_ready = ready > MAX_CAPACITY
    field = "addresses" if cut_ready else "notReadyAddresses"
    room = MAX_CAPACITY if cut_ready else MAX_CAPACITY - ready
    total = ready if cut_ready else not_ready
    left, out = room, []
    for subset in subsets:
        subset = dict(subset)
        share = math.ceil(len(subset.get(field) or ()) / total * room)
        kept = (subset.get(field) or [])[:min(share, left)]
        left -= len(kept)
        _set_or_drop(subset, field, kept)
        if cut_ready:
            subset.pop("notReadyAddresses", None)
        if subset.get("addresses") or subset.get("notReadyAddresses"):
            out.append(subset)
    return out, True


# -- comparison ------------------------------------------------------------------------------------

def _equal(current: Obj, desired: Obj) -> bool:
    """Kubernetes' "endpoints are equal" test: same subsets ignoring targetRef.resourceVersion,
    same labels, over-capacity annotation as it should be. Other metadata does not count.

    Kubernetes also ignores a headless label the current object has and the service does not;
    Bosun compares the labels it would write, so a missing headless label is added once.
    """
    def over(obj: Obj) -> bool:
        return OVER_CAPACITY_ANNOTATION in (meta(obj).get("annotations") or {})

    return (_normal(current.get("subsets")) == _normal(desired.get("subsets"))
            and (meta(current).get("labels") or {}) == (meta(desired).get("labels") or {})
            and over(current) == over(desired))


def _normal(value: object, parent: str = "") -> object:
    """`value` without empty fields (as Go's omitempty writes it) or a targetRef's
    resourceVersion."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if parent == "targetRef" and key == "resourceVersion":
                continue
            item = _normal(item, key)
            if item not in (None, "", [], {}):
                out[key] = item
        return out
    if isinstance(value, list):
        return [_normal(item, parent) for item in value]
    return value
