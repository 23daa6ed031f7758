"""Builders of the RCs, pods, services and nodes the controller plan tests use.

Shared by tests/unit/test_controllers_*.py; holds no tests itself. Objects come out as the API
stores them: server-set metadata (uid, creationTimestamp, resourceVersion) filled in, timestamps
as RFC 3339 strings relative to NOW.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bosun.objects.meta import format_time

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
NS = "default"
WEB = {"app": "web"}


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def stamp(seconds_ago: float) -> str:
    return format_time(ago(seconds_ago))


def uid_of(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def rc(name: str = "web", replicas: int = 3, selector: Mapping[str, str] | None = None, *,
       template_labels: Mapping[str, str] | None = None, generation: int = 1,
       status: dict | None = None, namespace: str = NS, deleting: bool = False,
       min_ready: int = 0, uid: str | None = None) -> dict:
    selector = dict(WEB if selector is None else selector)
    labels = dict(selector if template_labels is None else template_labels)
    spec: dict[str, Any] = {
        "replicas": replicas, "selector": selector,
        "template": {"metadata": {"creationTimestamp": None, "labels": labels},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}],
                              "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}}}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "uid": uid or uid_of(f"rc/{namespace}/{name}"),
                                "generation": generation, "resourceVersion": "100",
                                "creationTimestamp": stamp(3600), "labels": labels}
    if deleting:
        metadata["deletionTimestamp"] = stamp(1)
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": metadata,
            "spec": spec, "status": {"replicas": 0} if status is None else status}


def owner(of: Mapping, controller: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": of.get("kind", "ReplicationController"),
            "name": of["metadata"]["name"], "uid": of["metadata"]["uid"],
            "controller": controller, "blockOwnerDeletion": True}


def pod(name: str, labels: Mapping[str, str] | None = None, *, owned_by: Mapping | None = None,
        refs: Iterable[dict] = (), node: str | None = "minion-1", phase: str = "Running",
        ready: bool = True, ready_at: float = 600, created: float | None = 900,
        restarts: int = 0, deleting: bool = False, ip: str | None = "10.244.1.5",
        namespace: str = NS, annotations: Mapping[str, str] | None = None,
        ports: Iterable[dict] = (), tolerations: Iterable[dict] = (),
        hostname: str = "", subdomain: str = "") -> dict:
    """A pod as the API stores it; `ready_at`/`created` are seconds before NOW (None: unset)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "uid": uid_of(f"pod/{namespace}/{name}"),
                                "resourceVersion": "200",
                                "labels": dict(WEB if labels is None else labels)}
    if created is not None:
        metadata["creationTimestamp"] = stamp(created)
    owner_refs = [*([owner(owned_by)] if owned_by else []), *refs]
    if owner_refs:
        metadata["ownerReferences"] = owner_refs
    if deleting:
        metadata.update(deletionTimestamp=stamp(1), deletionGracePeriodSeconds=30)
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": "nginx:1.27",
                                            **({"ports": list(ports)} if ports else {})}]}
    if node:
        spec["nodeName"] = node
    if tolerations:
        spec["tolerations"] = list(tolerations)
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    status: dict[str, Any] = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False",
         "lastTransitionTime": stamp(ready_at)}],
        "containerStatuses": [{"name": "web", "ready": ready, "restartCount": restarts}]}
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": status}


def service(name: str = "web", selector: Mapping[str, str] | None = None, *,
            ports: Iterable[dict] | None = None, cluster_ip: str = "10.0.0.10",
            labels: Mapping[str, str] | None = None, namespace: str = NS,
            publish_not_ready: bool = False, kind: str = "ClusterIP") -> dict:
    spec: dict[str, Any] = {"type": kind, "clusterIP": cluster_ip, "sessionAffinity": "None",
                            "ports": list(ports) if ports is not None else [
                                {"name": "http", "port": 80, "targetPort": 8080,
                                 "protocol": "TCP"}]}
    if selector is None:
        spec["selector"] = dict(WEB)
    elif selector:
        spec["selector"] = dict(selector)
    if cluster_ip != "None":
        spec.update(clusterIPs=[cluster_ip], ipFamilies=["IPv4"], ipFamilyPolicy="SingleStack")
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "uid": uid_of(f"svc/{namespace}/{name}"),
                                "resourceVersion": "300"}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec,
            "status": {"loadBalancer": {}}}


def port(name: str, number: int, protocol: str = "TCP") -> dict:
    return {"name": name, "containerPort": number, "protocol": protocol}


def node(name: str = "minion-1", ready: str | None = "True", *, heartbeat: float = 5,
         transition: float = 3600, taints: Iterable[dict] = (), created: float = 7200,
         extra_conditions: Iterable[dict] = ()) -> dict:
    """A Node; `heartbeat`/`transition` are seconds before NOW of its Ready condition."""
    conditions = list(extra_conditions)
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready,
                           "lastHeartbeatTime": stamp(heartbeat),
                           "lastTransitionTime": stamp(transition),
                           "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown",
                           "message": "Bosun reached the minion over SSH and Docker"})
    spec: dict[str, Any] = {"podCIDR": "10.244.1.0/24"}
    if taints:
        spec["taints"] = list(taints)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": uid_of(f"node/{name}"), "resourceVersion": "400",
                         "creationTimestamp": stamp(created)},
            "spec": spec, "status": {"conditions": conditions}}
