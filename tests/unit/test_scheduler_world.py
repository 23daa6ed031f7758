"""Builders of the v1 Nodes, Pods, Services and ReplicationControllers the scheduler tests use.

Shared by the tests/unit/test_scheduler_*.py modules; holds no tests itself. The shapes are what
the API stores after defaulting (allocatable copied from capacity, namespace set).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from bosun.scheduler import Bind, Decision


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110", *,
         labels: Mapping[str, str] | None = None, ready: str | None = "True",
         unschedulable: bool = False, taints: list[dict] | None = None) -> dict[str, Any]:
    """A minion; `ready=None` leaves out the Ready condition (never reported)."""
    status: dict[str, Any] = {"capacity": {"cpu": cpu, "memory": memory, "pods": pods},
                              "allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}
    if ready is not None:
        status["conditions"] = [{"type": "MemoryPressure", "status": "False"},
                                {"type": "Ready", "status": ready}]
    spec: dict[str, Any] = {}
    if unschedulable:
        spec["unschedulable"] = True
    if taints is not None:
        spec["taints"] = taints
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "labels": dict(labels or {"kubernetes.io/hostname": name})},
            "spec": spec, "status": status}


def container(name: str = "app", *, requests: Mapping[str, str] | None = None,
              limits: Mapping[str, str] | None = None,
              ports: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests is not None:
        resources["requests"] = dict(requests)
    if limits is not None:
        resources["limits"] = dict(limits)
    return {"name": name, "image": "nginx", "resources": resources, "ports": list(ports)}


def pod(name: str, *, cpu: str | None = None, memory: str | None = None,
        containers: list[dict] | None = None, labels: Mapping[str, str] | None = None,
        namespace: str = "default", node_name: str | None = None,
        node_selector: Mapping[str, str] | None = None, tolerations: list[dict] | None = None,
        phase: str | None = None, uid: str | None = None, **spec: Any) -> dict[str, Any]:
    """A pod; `cpu`/`memory` become the requests of its single container."""
    if containers is None:
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
        containers = [container(requests=requests or None)]
    body: dict[str, Any] = {"containers": containers, **spec}
    if node_name:
        body["nodeName"] = node_name
    if node_selector is not None:
        body["nodeSelector"] = dict(node_selector)
    if tolerations is not None:
        body["tolerations"] = tolerations
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace, "uid": uid or f"uid-{name}",
                         "labels": dict(labels or {})},
            "spec": body, "status": {"phase": phase or ("Running" if node_name else "Pending")}}


def host_port(port: int, protocol: str | None = None, host_ip: str | None = None) -> dict:
    entry: dict[str, Any] = {"containerPort": port, "hostPort": port}
    if protocol:
        entry["protocol"] = protocol
    if host_ip:
        entry["hostIP"] = host_ip
    return entry


def rc(name: str, selector: Mapping[str, str] | None, namespace: str = "default",
       template_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": 1, "template": {
        "metadata": {"labels": dict(template_labels or selector or {})},
        "spec": {"containers": [container()]}}}
    if selector is not None:
        spec["selector"] = dict(selector)
    return {"kind": "ReplicationController", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def service(name: str, selector: Mapping[str, str] | None,
            namespace: str = "default") -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = dict(selector)
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def replicas(prefix: str, count: int, labels: Mapping[str, str], **kwargs: Any) -> list[dict]:
    return [pod(f"{prefix}-{i}", labels=labels, **kwargs) for i in range(count)]


def placements(decisions: Iterable[tuple[Any, Decision]]) -> Counter[str]:
    """How many pods each node got."""
    return Counter(d.node_name for _, d in decisions if isinstance(d, Bind))
