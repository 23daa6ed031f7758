"""The scheduling decision: which node each pending pod is bound to, or why it stays Pending.

Pure: v1 Nodes, Pods, Services and ReplicationControllers in, `Bind` or `Unschedulable` out; the
scheduler loop and the binder (POST pods/NAME/binding) carry the decisions out. Filters come from
`predicates`, scores from `priorities`; an unschedulable pod gets kube-scheduler 1.32's
FailedScheduling message, word for word.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bosun.scheduler.predicates import (
    PREEMPTION_MIGHT_HELP,
    NodeInfo,
    PodInfo,
    counts_on_node,
    failures,
    node_info,
    pod_info,
)
from bosun.scheduler.priorities import score, spreading_selectors

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
# Bosun never preempts and all its pods have the same priority, so each node that failed gets one
# of the two answers kube-scheduler's preemption gives when no lower-priority pod can be evicted.
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_PREEMPTION_VICTIMS = "No preemption victims found for incoming pod"
PREEMPTION_NEVER = "not eligible due to preemptionPolicy=Never."


@dataclass(frozen=True)
class Bind:
    """Bind the pod to this node."""

    node_name: str


@dataclass(frozen=True)
class Unschedulable:
    """The pod fits on no node. `message` is the FailedScheduling event's; `node_reasons` says
    per node why (empty when there are no nodes at all)."""

    message: str
    node_reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


Decision = Bind | Unschedulable
Pod = Mapping[str, Any]


def cluster_nodes(nodes: Iterable[Mapping[str, Any]], pods: Iterable[Pod]) -> dict[str, NodeInfo]:
    """Each node by name with the pods already bound to it that still take room (not finished).

    Pods bound to a node not in `nodes`, and pods not bound yet, are left out. Raises
    QuantityError for a malformed quantity.
    """
    by_node: dict[str, list[PodInfo]] = {}
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name and counts_on_node(pod):
            by_node.setdefault(node_name, []).append(pod_info(pod))
    infos = {}
    for node in nodes:
        name = (node.get("metadata") or {}).get("name")
        if name:
            infos[name] = node_info(node, by_node.get(name, ()))
    return infos


def schedule(pod: Pod, nodes: Iterable[Mapping[str, Any]], pods: Iterable[Pod],
             services: Iterable[Mapping[str, Any]] = (),
             rcs: Iterable[Mapping[str, Any]] = ()) -> Decision:
    """Where one pending pod (no spec.nodeName) should go, given every node and pod of the cluster.

    `pods` may include pending pods (ignored) and the pod itself. Raises QuantityError for a
    malformed quantity.
    """
    return _decide(pod, pod_info(pod), cluster_nodes(nodes, pods), list(services), list(rcs))


def schedule_all(pending_pods: Iterable[Pod], nodes: Iterable[Mapping[str, Any]],
                 pods: Iterable[Pod], services: Iterable[Mapping[str, Any]] = (),
                 rcs: Iterable[Mapping[str, Any]] = ()) -> list[tuple[Pod, Decision]]:
    """Decide for pending pods in the order given, each seeing the earlier ones of the batch placed.

    So six replicas of an RC over three equal nodes go 2/2/2, and a burst of pods does not all
    land on the node that was emptiest before the batch. Raises QuantityError for a malformed
    quantity.
    """
    cluster = cluster_nodes(nodes, pods)
    services, rcs = list(services), list(rcs)
    decisions: list[tuple[Pod, Decision]] = []
    for pod in pending_pods:
        info = pod_info(pod)
        decision = _decide(pod, info, cluster, services, rcs)
        if isinstance(decision, Bind):
            cluster[decision.node_name] = cluster[decision.node_name].with_pod(info)
        decisions.append((pod, decision))
    return decisions


def _decide(pod: Pod, info: PodInfo, cluster: Mapping[str, NodeInfo],
            services: Sequence[Mapping[str, Any]], rcs: Sequence[Mapping[str, Any]]) -> Decision:
    """Filter the cluster's nodes, score those left, and pick the best (see `pick`)."""
    if not cluster:
        return Unschedulable(NO_NODES_AVAILABLE)
    feasible: list[NodeInfo] = []
    node_reasons: dict[str, tuple[str, ...]] = {}
    for node in cluster.values():
        reasons = failures(info, node)
        if reasons:
            node_reasons[node.name] = reasons
        else:
            feasible.append(node)
    if not feasible:
        policy = (pod.get("spec") or {}).get("preemptionPolicy")
        return Unschedulable(failed_scheduling_message(len(cluster), node_reasons, policy),
                             node_reasons)
    if len(feasible) == 1:
        return Bind(feasible[0].name)
    selectors = spreading_selectors(pod, services, rcs)
    return Bind(pick(info, feasible, score(info, feasible, selectors)))


def pick(pod: PodInfo, nodes: Sequence[NodeInfo], scores: Sequence[int]) -> str:
    """The best-scoring node's name. Ties go to the node whose name hashes lowest together with
    the pod's uid: stable for one pod, but different pods spread over equal nodes."""
    best = max(scores)
    tied = [node.name for node, points in zip(nodes, scores, strict=True) if points == best]
    if len(tied) == 1:
        return tied[0]
    return min(tied, key=lambda name: _tie_breaker(pod.key, name))


def _tie_breaker(pod_key: str, node_name: str) -> bytes:
    return hashlib.blake2b(f"{pod_key}\0{node_name}".encode(), digest_size=8).digest()


def failed_scheduling_message(num_nodes: int, node_reasons: Mapping[str, Sequence[str]],
                              preemption_policy: str | None = None) -> str:
    """kube-scheduler 1.32's FailedScheduling message for a pod that fits on none of the nodes.

    `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
    affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for
    incoming pod, 2 Preemption is not helpful for scheduling.`
    Reasons are counted over the nodes and sorted as text, count first, as Kubernetes does.
    """
    if num_nodes == 0:
        return NO_NODES_AVAILABLE
    available = f"0/{num_nodes} nodes are available:"
    message = f"{available} {_histogram(node_reasons.values())}."
    if preemption_policy == "Never":
        return f"{message} preemption: {PREEMPTION_NEVER}"
    preemption = [[NO_PREEMPTION_VICTIMS if _preemption_might_help(reasons)
                   else PREEMPTION_NOT_HELPFUL] for reasons in node_reasons.values()]
    return f"{message} preemption: {available} {_histogram(preemption)}."


def _preemption_might_help(reasons: Iterable[str]) -> bool:
    return all(reason in PREEMPTION_MIGHT_HELP for reason in reasons)


def _histogram(reason_lists: Iterable[Iterable[str]]) -> str:
    counts = Counter(reason for reasons in reason_lists for reason in reasons)
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items()))
