"""Node lifecycle: notice minions that stopped answering, taint them, and move their pods away.

Pure: every Node and every pod in, actions out, after Kubernetes 1.32's node lifecycle controller
with taint-based eviction:

- A Node whose Ready condition was last heartbeated more than `grace` ago gets Ready (and any
  MemoryPressure/DiskPressure/PIDPressure condition it reports) set to Unknown, reason
  NodeStatusUnknown, "Kubelet stopped posting node status." (`MarkNotReady`). A node that never
  reported Ready gets one, NodeStatusNeverUpdated, `grace` after it was created.
- A Node not Ready carries `node.kubernetes.io/unreachable` (Ready Unknown) or
  `node.kubernetes.io/not-ready` (Ready False) with effects NoSchedule and NoExecute; a Ready node
  carries neither (`SetTaints`). Its pods that are still Ready are marked not ready, so the
  endpoints controller stops sending them traffic before they are evicted (`MarkPodNotReady`).
- A pod on a node not Ready for longer than `eviction_timeout` (from the Ready condition's
  lastTransitionTime) is deleted so its RC recreates it elsewhere (`Evict`). The timeout stands
  in for the 300 s tolerations Kubernetes' admission adds to every pod: a pod that tolerates the
  NoExecute taint itself waits its own tolerationSeconds, or forever without them. Finished pods
  and pods already being deleted are left alone.
- When no node at all is Ready, Bosun assumes its own network failed (Kubernetes' full
  disruption rule): no NoExecute taints and no evictions until a node answers again.

Defaults (`NODE_MONITOR_GRACE_PERIOD` 20 s, `POD_EVICTION_TIMEOUT` 30 s; Kubernetes: 40 s and
5 min; both settable through the loop's options). The kubelet loop heartbeats every minion each
resync (10 s) and marks a minion it cannot reach Ready=Unknown itself at once, so the grace
period only matters when that loop stalls. A lost minion is usually seen within one resync; its
pods are deleted `POD_EVICTION_TIMEOUT` after that and their replacements are then scheduled
and started on the others: about 30-40 s plus the start, or up to 50 s (20 + 30) after the last
heartbeat when the loss is found by the grace period instead.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bosun.controllers.model import (
    NORMAL,
    WARNING,
    Event,
    Obj,
    condition,
    is_deleting,
    is_ready,
    is_terminal,
    key_of,
    meta,
    name_of,
    node_name_of,
    parse_time,
    uid_of,
)
from bosun.objects.meta import format_time
from bosun.scheduler.predicates import (
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY_TAINT,
    UNREACHABLE_TAINT,
    Taint,
    tolerates,
)

NODE_MONITOR_GRACE_PERIOD = timedelta(seconds=20)
POD_EVICTION_TIMEOUT = timedelta(seconds=30)

STATUS_UNKNOWN = "NodeStatusUnknown"
STATUS_UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_UPDATED = "NodeStatusNeverUpdated"
NEVER_UPDATED_MESSAGE = "Kubelet never posted node status."
# The conditions Kubernetes turns Unknown when a node goes silent (those the node has).
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
# The taints this controller owns, by (key, effect); every other taint is left as it is.
MANAGED_TAINTS = frozenset((key, effect) for key in (UNREACHABLE_TAINT, NOT_READY_TAINT)
                           for effect in (NO_SCHEDULE, NO_EXECUTE))
_FOREVER = timedelta.max


@dataclass(frozen=True)
class MarkNotReady:
    """Write the node's conditions with Ready Unknown (through nodes/NAME/status)."""

    node: Obj
    condition: Obj
    conditions: tuple[Obj, ...]
    was_ready: bool

    @property
    def status(self) -> dict:
        return {**copy.deepcopy(dict(self.node.get("status") or {})),
                "conditions": [copy.deepcopy(dict(c)) for c in self.conditions]}

    def event(self, result: Obj | None = None) -> Event | None:
        """NodeNotReady on the node, only when it was Ready until now (as Kubernetes)."""
        if not self.was_ready:
            return None
        name = name_of(self.node)
        return Event(self.node, NORMAL, "NodeNotReady", f"Node {name} status is now: NodeNotReady")


@dataclass(frozen=True)
class SetTaints:
    """Replace the node's spec.taints with `taints` (other taints kept as they were)."""

    node: Obj
    taints: tuple[Obj, ...]

    @property
    def patch(self) -> dict:
        """A merge patch: spec.taints has no merge key, so the list is replaced whole."""
        return {"spec": {"taints": [copy.deepcopy(dict(t)) for t in self.taints]}}

    def event(self, result: Obj | None = None) -> Event | None:
        return None


@dataclass(frozen=True)
class MarkPodNotReady:
    """Write the pod's status with Ready False (through pods/NAME/status)."""

    pod: Obj
    status: Obj

    def event(self, result: Obj | None = None) -> Event:
        return Event(self.pod, WARNING, "NodeNotReady", "Node is not ready")


@dataclass(frozen=True)
class Evict:
    """Delete a pod of a node that has been not Ready too long."""

    pod: Obj
    node_name: str

    @property
    def uid(self) -> str:
        """For a delete precondition, so a pod recreated under the same name is spared."""
        return uid_of(self.pod)

    def event(self, result: Obj | None = None) -> Event:
        return Event(self.pod, NORMAL, "NodeControllerEviction",
                     f"Marking for deletion Pod {name_of(self.pod)} from Node {self.node_name}")


Action = MarkNotReady | SetTaints | MarkPodNotReady | Evict


def plan(nodes: Iterable[Obj], pods: Iterable[Obj], now: datetime,
         grace: timedelta = NODE_MONITOR_GRACE_PERIOD,
         eviction_timeout: timedelta = POD_EVICTION_TIMEOUT) -> list[Action]:
    """The actions for every node, node by node in name order: MarkNotReady, SetTaints, then
    MarkPodNotReady and Evict for its pods in namespace/name order."""
    ordered = sorted(nodes, key=name_of)
    marks = {name_of(node): mark_not_ready(node, now, grace) for node in ordered}
    ready = {name_of(node): _ready_after(node, marks[name_of(node)]) for node in ordered}
    full_disruption = bool(ordered) and not any(
        cond is not None and cond.get("status") == "True" for cond in ready.values())
    by_node: dict[str, list[Obj]] = defaultdict(list)
    for pod in pods:
        if node_name_of(pod):
            by_node[node_name_of(pod)].append(pod)
    actions: list[Action] = []
    for node in ordered:
        name = name_of(node)
        if marks[name] is not None:
            actions.append(marks[name])
        taints = node_taints(node, ready[name], full_disruption, now)
        if taints is not None:
            actions.append(SetTaints(node, taints))
        if ready[name] is not None and ready[name].get("status") != "True":
            actions += _pod_actions(name, ready[name], sorted(by_node[name], key=key_of), now,
                                    eviction_timeout, evict=not full_disruption)
    return actions


# -- node status -----------------------------------------------------------------------------------

def mark_not_ready(node: Obj, now: datetime, grace: timedelta) -> MarkNotReady | None:
    """Ready (and the other monitored conditions) Unknown when the last heartbeat is more than
    `grace` old; None when the node is fresh or already Unknown."""
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or ()]
    ready = condition(node, "Ready")
    created = meta(node).get("creationTimestamp")
    if ready is None:
        since = parse_time(created)
        if since is None or not now > since + grace:
            return None
        new = {"type": "Ready", "status": "Unknown", "lastHeartbeatTime": created,
               "lastTransitionTime": format_time(now), "reason": NEVER_UPDATED,
               "message": NEVER_UPDATED_MESSAGE}
        return MarkNotReady(node, new, (*conditions, new), was_ready=False)
    heartbeat = (parse_time(ready.get("lastHeartbeatTime"))
                 or parse_time(ready.get("lastTransitionTime")) or parse_time(created))
    if heartbeat is None or not now > heartbeat + grace:
        return None
    if not any(_stale(c) for c in conditions):
        return None
    new_conditions = tuple(_unknown(c, now) if _stale(c) else c for c in conditions)
    new_ready = next(c for c in new_conditions if c.get("type") == "Ready")
    return MarkNotReady(node, new_ready, new_conditions, was_ready=ready.get("status") == "True")


def _stale(cond: Obj) -> bool:
    return cond.get("type") in MONITORED_CONDITIONS and cond.get("status") != "Unknown"


def _unknown(cond: dict, now: datetime) -> dict:
    return {**cond, "status": "Unknown", "reason": STATUS_UNKNOWN,
            "message": STATUS_UNKNOWN_MESSAGE, "lastTransitionTime": format_time(now)}


def _ready_after(node: Obj, mark: MarkNotReady | None) -> Obj | None:
    return mark.condition if mark is not None else condition(node, "Ready")


# -- taints ----------------------------------------------------------------------------------------

def node_taints(node: Obj, ready: Obj | None, full_disruption: bool,
                now: datetime) -> tuple[Obj, ...] | None:
    """The node's new spec.taints for its Ready condition, None when they stay as they are.

    Ready True: none of the managed taints. False: not-ready; Unknown: unreachable; each as
    NoSchedule and (outside full disruption) NoExecute with timeAdded. A node without a Ready
    condition yet is left alone. Taints already there keep their timeAdded.
    """
    if ready is None:
        return None
    status = ready.get("status")
    key = None if status == "True" else UNREACHABLE_TAINT if status == "Unknown" \
        else NOT_READY_TAINT
    wanted = set()
    if key is not None:
        wanted = {(key, NO_SCHEDULE)} if full_disruption else {(key, NO_SCHEDULE),
                                                                (key, NO_EXECUTE)}
    current = [dict(t) for t in (node.get("spec") or {}).get("taints") or ()]
    have = {(t.get("key"), t.get("effect")) for t in current}
    kept = [t for t in current
            if (t.get("key"), t.get("effect")) not in MANAGED_TAINTS
            or (t.get("key"), t.get("effect")) in wanted]
    added = [_taint(k, effect, now) for k, effect in sorted(wanted - have)]
    new = kept + added
    return None if new == current else tuple(new)


def _taint(key: str, effect: str, now: datetime) -> dict:
    taint = {"key": key, "effect": effect}
    if effect == NO_EXECUTE:
        taint["timeAdded"] = format_time(now)
    return taint


# -- pods ------------------------------------------------------------------------------------------

def _pod_actions(node_name: str, ready: Obj, pods: Sequence[Obj], now: datetime,
                 timeout: timedelta, evict: bool) -> list[Action]:
    since = parse_time(ready.get("lastTransitionTime")) or now
    taint = Taint(UNREACHABLE_TAINT if ready.get("status") == "Unknown" else NOT_READY_TAINT,
                  "", NO_EXECUTE)
    actions: list[Action] = []
    for pod in pods:
        if evict and _evictable(pod, taint, since, now, timeout):
            actions.append(Evict(pod, node_name))
        elif is_ready(pod):
            actions.append(MarkPodNotReady(pod, pod_not_ready_status(pod, now)))
    return actions


def _evictable(pod: Obj, taint: Taint, since: datetime, now: datetime,
               timeout: timedelta) -> bool:
    if is_terminal(pod) or is_deleting(pod):
        return False
    wait = toleration_wait(pod, taint)
    wait = timeout if wait is None else wait
    return wait is not _FOREVER and now > since + wait


def toleration_wait(pod: Obj, taint: Taint) -> timedelta | None:
    """How long the pod's own tolerations keep it on a node with `taint` (Kubernetes'
    getMinTolerationTime): the least tolerationSeconds of the matching ones (never below 0),
    `timedelta.max` when none of them has a limit, None when none matches."""
    matching = [t for t in (pod.get("spec") or {}).get("tolerations") or ()
                if tolerates(t, taint)]
    if not matching:
        return None
    limits = [int(t["tolerationSeconds"]) for t in matching
              if t.get("tolerationSeconds") is not None]
    if not limits:
        return _FOREVER
    return timedelta(seconds=max(0, min(limits)))


def pod_not_ready_status(pod: Obj, now: datetime) -> dict:
    """The pod's status with its Ready condition False since `now`, other fields unchanged."""
    status = copy.deepcopy(dict(pod.get("status") or {}))
    status["conditions"] = [
        {**c, "status": "False", "lastTransitionTime": format_time(now)}
        if c.get("type") == "Ready" else c
        for c in status.get("conditions") or ()]
    return status
