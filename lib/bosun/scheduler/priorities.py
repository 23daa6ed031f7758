"""Scheduler scores: among the nodes a pod fits on, which it should prefer.

Second stage of the scheduling decision, after `predicates`. Each priority scores a node 0-100
(higher is better) with integer arithmetic, so equal nodes tie exactly and `plan` can break the tie:
least requested (room left), balanced allocation (CPU and memory used alike) and selector spreading
(fewest pods of the same Services and ReplicationControllers). `score` adds them up with `WEIGHTS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bosun.scheduler.predicates import NodeInfo, PodInfo

MAX_SCORE = 100

LEAST_REQUESTED = "least_requested"
BALANCED_ALLOCATION = "balanced_allocation"
SELECTOR_SPREADING = "selector_spreading"

# Spreading weighs double, as PodTopologySpread does against the resource scores in Kubernetes
# 1.32: replicas of one RC go to different minions before the emptier minion gets a second one.
WEIGHTS: Mapping[str, int] = {LEAST_REQUESTED: 1, BALANCED_ALLOCATION: 1, SELECTOR_SPREADING: 2}


def least_requested(pod: PodInfo, node: NodeInfo) -> int:
    """Share of the node's CPU and memory left once the pod is on it, averaged, 0-100.

    Counts what every pod asks for, with the default for containers that ask nothing.
    """
    cpu = _free_share(node.allocatable.cpu, node.scored_requested.cpu + pod.scored.cpu)
    memory = _free_share(node.allocatable.memory,
                         node.scored_requested.memory + pod.scored.memory)
    return (cpu + memory) // 2


def _free_share(capacity: int, requested: int) -> int:
    if capacity <= 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_SCORE // capacity


def balanced_allocation(pod: PodInfo, node: NodeInfo) -> int:
    """100 when the pod leaves the node's CPU and memory equally used, less the more they differ.

    The score is 100 minus the standard deviation of the two used fractions (in percent). A pod
    that reserves nothing cannot change the balance, so it gets 0 everywhere: otherwise the
    imbalance other pods left would steer a burst of such pods onto one node.
    """
    if pod.requests.cpu == 0 and pod.requests.memory == 0:
        return 0
    cpu_used, cpu_cap = _capped(node.requested.cpu + pod.requests.cpu, node.allocatable.cpu)
    mem_used, mem_cap = _capped(node.requested.memory + pod.requests.memory,
                                node.allocatable.memory)
    # With two fractions the standard deviation is half their difference: |a/b - c/d| / 2.
    spread = abs(cpu_used * mem_cap - mem_used * cpu_cap)
    return MAX_SCORE - _ceil_div(spread * MAX_SCORE, 2 * cpu_cap * mem_cap)


def _capped(used: int, capacity: int) -> tuple[int, int]:
    """(used, capacity) with the fraction capped at 1; a node without the resource is full."""
    if capacity <= 0:
        return 1, 1
    return min(used, capacity), capacity


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def spreading_selectors(pod: Mapping[str, Any], services: Iterable[Mapping[str, Any]],
                        rcs: Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, str], ...]:
    """Selectors of the pod's Services and ReplicationControllers (same namespace, selecting it).

    A Service without a selector selects nothing; an RC without one uses its template's labels,
    as the API defaults it.
    """
    meta = pod.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    labels = meta.get("labels") or {}
    candidates = [(s, (s.get("spec") or {}).get("selector")) for s in services]
    candidates += [(rc, _rc_selector(rc)) for rc in rcs]
    return tuple(selector for owner, selector in candidates
                 if selector and _namespace(owner) == namespace and selects(selector, labels))


def _rc_selector(rc: Mapping[str, Any]) -> Mapping[str, str] | None:
    spec = rc.get("spec") or {}
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    return spec.get("selector") or template_meta.get("labels")


def _namespace(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace") or "default"


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether an equality selector (a Service's or an RC's) matches a set of labels."""
    return selector.items() <= labels.items()


def selector_spreading(pod: PodInfo, nodes: Sequence[NodeInfo],
                       selectors: Sequence[Mapping[str, str]]) -> list[int]:
    """Per node, 100 for the fewest pods of the pod's Services/RCs down to 0 for the most.

    A node's count is its pods in the pod's namespace that any of `selectors` matches (pods
    being deleted excluded). Scores are relative to the busiest of `nodes`, so pass the nodes the
    pod fits on.
    """
    if not selectors:
        return [MAX_SCORE] * len(nodes)
    counts = [_matching_pods(pod.namespace, node, selectors) for node in nodes]
    most = max(counts, default=0)
    if most == 0:
        return [MAX_SCORE] * len(nodes)
    return [MAX_SCORE * (most - count) // most for count in counts]


def _matching_pods(namespace: str, node: NodeInfo, selectors: Sequence[Mapping[str, str]]) -> int:
    return sum(1 for other in node.pods
               if other.namespace == namespace and not other.terminating
               and any(selects(selector, other.labels) for selector in selectors))


def score(pod: PodInfo, nodes: Sequence[NodeInfo],
          selectors: Sequence[Mapping[str, str]] = ()) -> list[int]:
    """Weighted sum of the priorities for each of `nodes` (the feasible ones), in order."""
    spreading = selector_spreading(pod, nodes, selectors)
    return [WEIGHTS[LEAST_REQUESTED] * least_requested(pod, node)
            + WEIGHTS[BALANCED_ALLOCATION] * balanced_allocation(pod, node)
            + WEIGHTS[SELECTOR_SPREADING] * spread
            for node, spread in zip(nodes, spreading, strict=True)]
