"""Scheduler filters: can this pod go on this node, and if not, why (in Kubernetes' own words).

First stage of the scheduling decision. Raw v1 Pods and Nodes are read once into `PodInfo` and
`NodeInfo` (quantities parsed, the node's pods summed up); each predicate is then a pure function
`(PodInfo, NodeInfo) -> reason | None`. `failures` runs them in Kubernetes' plugin order and stops
at the first failing stage, so a node reports the same reasons kube-scheduler 1.32 would give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bosun.objects.quantity import parse, to_bytes, to_millicores

# Reasons, worded as kube-scheduler 1.32's filter plugins word them.
UNSCHEDULABLE = "node(s) were unschedulable"
SELECTOR_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
PORTS_IN_USE = "node(s) didn't have free ports for the requested pod ports"
TOO_MANY_PODS = "Too many pods"
INSUFFICIENT_CPU = "Insufficient cpu"
INSUFFICIENT_MEMORY = "Insufficient memory"

# Failures that removing other pods could cure (Kubernetes' Unschedulable, as opposed to
# UnschedulableAndUnresolvable); the FailedScheduling message words the preemption part by it.
PREEMPTION_MIGHT_HELP = frozenset({PORTS_IN_USE, TOO_MANY_PODS, INSUFFICIENT_CPU,
                                   INSUFFICIENT_MEMORY})

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"

# What the scheduler counts for a container that asks for nothing, when it scores (not when it
# filters): without it, best-effort pods would all look free and pile onto one node.
DEFAULT_CPU_REQUEST = 100  # millicores
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # bytes

WILDCARD_IP = "0.0.0.0"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


def untolerated_taint(taint: Taint) -> str:
    """The reason for a taint the pod does not tolerate: `node(s) had untolerated taint {k: v}`."""
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


@dataclass(frozen=True)
class Resources:
    """CPU in millicores and memory in bytes."""

    cpu: int = 0
    memory: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu + other.cpu, self.memory + other.memory)


@dataclass(frozen=True)
class HostPort:
    """One hostPort a pod binds on its node."""

    port: int
    protocol: str = "TCP"
    ip: str = WILDCARD_IP

    def conflicts_with(self, other: HostPort) -> bool:
        """Same port and protocol, and the addresses overlap (0.0.0.0 overlaps every address)."""
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return self.ip == other.ip or WILDCARD_IP in (self.ip, other.ip)


@dataclass(frozen=True)
class Taint:
    """A node taint that keeps pods off (effect NoSchedule or NoExecute)."""

    key: str
    value: str = ""
    effect: str = NO_SCHEDULE


@dataclass(frozen=True)
class PodInfo:
    """What the scheduler needs of one Pod, parsed once.

    `requests` is what the pod reserves for fitting: each container's request, or its limit where
    it has no request (the API's v1.0 defaulting). `scored` is the same with Kubernetes' default
    for what nothing is asked, used only to score nodes.
    """

    namespace: str
    name: str
    uid: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    requests: Resources = Resources()
    scored: Resources = Resources()
    host_ports: tuple[HostPort, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    terminating: bool = False

    @property
    def key(self) -> str:
        """The pod's identity for tie-breaking: its uid, or namespace/name when it has none."""
        return self.uid or f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class NodeInfo:
    """One Node as the scheduler sees it: what it offers, and what its pods already take.

    `taints` are the spec taints that block scheduling, plus the one Kubernetes' node lifecycle
    controller puts on a node that is not Ready (`not-ready` when Ready is False or was never
    reported, `unreachable` when it is Unknown): readiness is judged as a taint, as in Kubernetes.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()
    allocatable: Resources = Resources()
    allowed_pods: int = 0
    requested: Resources = Resources()
    scored_requested: Resources = Resources()
    pods: tuple[PodInfo, ...] = ()
    used_ports: tuple[HostPort, ...] = ()

    def with_pod(self, pod: PodInfo) -> NodeInfo:
        """This node with one more pod placed on it (a new object; this one is unchanged)."""
        return replace(
            self,
            requested=self.requested + pod.requests,
            scored_requested=self.scored_requested + pod.scored,
            pods=(*self.pods, pod),
            used_ports=self.used_ports + pod.host_ports,
        )


# -- reading v1 objects ----------------------------------------------------------------------------

def pod_info(pod: Mapping[str, Any]) -> PodInfo:
    """Read a v1 Pod. Raises QuantityError for a malformed quantity (the API refuses those)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    requests, scored = _pod_requests(containers)
    return PodInfo(
        namespace=meta.get("namespace") or "default",
        name=meta.get("name") or "",
        uid=meta.get("uid") or "",
        labels=meta.get("labels") or {},
        requests=requests,
        scored=scored,
        host_ports=tuple(_host_ports(containers)),
        node_selector=spec.get("nodeSelector") or {},
        tolerations=tuple(spec.get("tolerations") or ()),
        terminating=bool(meta.get("deletionTimestamp")),
    )


def _pod_requests(containers: Iterable[Mapping[str, Any]]) -> tuple[Resources, Resources]:
    """(requests for fitting, requests for scoring) summed over the containers."""
    fit = scored = Resources()
    for container in containers:
        resources = container.get("resources") or {}
        cpu = _asked(resources, "cpu", to_millicores)
        memory = _asked(resources, "memory", to_bytes)
        fit += Resources(cpu or 0, memory or 0)
        scored += Resources(DEFAULT_CPU_REQUEST if cpu is None else cpu,
                            DEFAULT_MEMORY_REQUEST if memory is None else memory)
    return fit, scored


def _asked(resources: Mapping[str, Any], name: str, amount: Callable[[Any], int]) -> int | None:
    """A container's request for a resource, or its limit when it has no request; None when it
    has neither."""
    for kind in ("requests", "limits"):
        given = resources.get(kind) or {}
        if name in given:
            return amount(given[name])
    return None


def _host_ports(containers: Iterable[Mapping[str, Any]]) -> Iterable[HostPort]:
    for container in containers:
        for port in container.get("ports") or ():
            number = port.get("hostPort") or 0
            if number > 0:
                yield HostPort(number, port.get("protocol") or "TCP",
                               port.get("hostIP") or WILDCARD_IP)


def counts_on_node(pod: Mapping[str, Any]) -> bool:
    """A pod takes room on its node unless it has finished (phase Succeeded or Failed)."""
    return (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES


def node_info(node: Mapping[str, Any], pods: Iterable[PodInfo] = ()) -> NodeInfo:
    """Read a v1 Node with the pods already on it. Raises QuantityError for a bad quantity."""
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    offered = status.get("allocatable") or status.get("capacity") or {}
    pods = tuple(pods)
    return NodeInfo(
        name=meta.get("name") or "",
        labels=meta.get("labels") or {},
        unschedulable=bool(spec.get("unschedulable")),
        taints=_blocking_taints(spec.get("taints") or (), status.get("conditions") or ()),
        allocatable=Resources(to_millicores(offered.get("cpu", 0)),
                              to_bytes(offered.get("memory", 0))),
        allowed_pods=math.ceil(parse(offered.get("pods", 0))),
        requested=sum((pod.requests for pod in pods), Resources()),
        scored_requested=sum((pod.scored for pod in pods), Resources()),
        pods=pods,
        used_ports=tuple(port for pod in pods for port in pod.host_ports),
    )


def _blocking_taints(taints: Iterable[Mapping[str, Any]],
                     conditions: Iterable[Mapping[str, Any]]) -> tuple[Taint, ...]:
    blocking = [Taint(t.get("key") or "", t.get("value") or "", t.get("effect") or "")
                for t in taints if t.get("effect") in (NO_SCHEDULE, NO_EXECUTE)]
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    if ready != "True":
        key = UNREACHABLE_TAINT if ready == "Unknown" else NOT_READY_TAINT
        # A NoExecute taint of the same key (taint-based eviction) does not stand in for it: pods
        # tolerate that one for 300 s by default, and must still not be placed there.
        if not any(t.key == key and t.effect == NO_SCHEDULE for t in blocking):
            blocking.append(Taint(key, "", NO_SCHEDULE))
    return tuple(blocking)


def tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Whether one toleration matches a taint (an empty key with Exists matches every taint)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.effect:
        return False
    key = toleration.get("key") or ""
    if key and key != taint.key:
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == taint.value


# -- the predicates --------------------------------------------------------------------------------

Predicate = Callable[[PodInfo, NodeInfo], str | None]


def node_schedulable(pod: PodInfo, node: NodeInfo) -> str | None:
    """A cordoned node (spec.unschedulable) takes only pods that tolerate being cordoned."""
    if not node.unschedulable:
        return None
    cordon = Taint(UNSCHEDULABLE_TAINT, "", NO_SCHEDULE)
    if any(tolerates(t, cordon) for t in pod.tolerations):
        return None
    return UNSCHEDULABLE


def taints_tolerated(pod: PodInfo, node: NodeInfo) -> str | None:
    """The node is Ready and the pod tolerates its taints; names the first one it does not."""
    for taint in node.taints:
        if not any(tolerates(t, taint) for t in pod.tolerations):
            return untolerated_taint(taint)
    return None


def node_selector_matches(pod: PodInfo, node: NodeInfo) -> str | None:
    """Every label in the pod's nodeSelector is on the node with the same value."""
    labels = node.labels
    for key, value in pod.node_selector.items():
        if labels.get(key) != value:
            return SELECTOR_MISMATCH
    return None


def host_ports_free(pod: PodInfo, node: NodeInfo) -> str | None:
    """No pod on the node already binds one of this pod's host ports (same protocol and port,
    overlapping hostIP)."""
    for wanted in pod.host_ports:
        if any(wanted.conflicts_with(used) for used in node.used_ports):
            return PORTS_IN_USE
    return None


def pods_fit(pod: PodInfo, node: NodeInfo) -> str | None:
    """The node has room for one more pod (status.allocatable.pods)."""
    return TOO_MANY_PODS if len(node.pods) + 1 > node.allowed_pods else None


def cpu_fits(pod: PodInfo, node: NodeInfo) -> str | None:
    """The pod's CPU fits in what the node's pods have not reserved (nothing asked always fits)."""
    wanted = pod.requests.cpu
    if wanted > 0 and wanted > node.allocatable.cpu - node.requested.cpu:
        return INSUFFICIENT_CPU
    return None


def memory_fits(pod: PodInfo, node: NodeInfo) -> str | None:
    """The pod's memory fits in what the node's pods have not reserved."""
    wanted = pod.requests.memory
    if wanted > 0 and wanted > node.allocatable.memory - node.requested.memory:
        return INSUFFICIENT_MEMORY
    return None


# Stages in kube-scheduler's filter order (NodeUnschedulable, TaintToleration, NodeAffinity,
# NodePorts, NodeResourcesFit). A node reports the reasons of its first failing stage only; within
# the resources stage every shortage is reported, as Kubernetes does.
STAGES: tuple[tuple[Predicate, ...], ...] = (
    (node_schedulable,),
    (taints_tolerated,),
    (node_selector_matches,),
    (host_ports_free,),
    (pods_fit, cpu_fits, memory_fits),
)


def failures(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    """Why the pod cannot go on the node; empty when it can."""
    for stage in STAGES:
        reasons = [reason for predicate in stage if (reason := predicate(pod, node))]
        if reasons:
            return tuple(reasons)
    return ()
