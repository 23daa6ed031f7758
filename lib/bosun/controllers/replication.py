"""The replication manager's decision for one ReplicationController, as Kubernetes 1.32 makes it.

Pure: the RC and every pod of its namespace in, a `ReplicationPlan` out - adopt matching orphans,
release owned pods the selector no longer matches, create from the template or delete the surplus
(never both), and the RC's new status. The loop carries it out through the API and records each
action's Event; deleting the pods of a deleted RC is the garbage collector's part
(`orphans_of_deleted`).

The plan is level-based: it trusts `pods` to include every pod the API has. Like Kubernetes'
expectations, the loop must not plan the same RC again until its watch has seen the pods it
created or deleted, or it will create (or delete) them twice.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bosun.controllers.model import (
    NORMAL,
    WARNING,
    Event,
    Obj,
    controller_ref,
    is_active,
    is_deleting,
    is_ready,
    key_of,
    meta,
    name_of,
    node_name_of,
    parse_time,
    ready_since,
    uid_of,
)
from bosun.objects import names
from bosun.objects.meta import format_time
from bosun.objects.selectors import NOTHING, Selector, selector_from_set

KIND = "ReplicationController"
# Kubernetes' burstReplicas: at most this many creates or deletes per sync of one RC.
BURST_REPLICAS = 500
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
REPLICA_FAILURE = "ReplicaFailure"

SUCCESSFUL_CREATE = "SuccessfulCreate"
FAILED_CREATE = "FailedCreate"
SUCCESSFUL_DELETE = "SuccessfulDelete"
FAILED_DELETE = "FailedDelete"

# Kubernetes' podPhaseToOrdinal; any other phase (or none) counts as Pending.
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}
_INT32 = re.compile(r"[+-]?[0-9]+")


def owner_reference(rc: Obj) -> dict:
    """The controller ownerReference a pod of `rc` carries."""
    return {"apiVersion": "v1", "kind": KIND, "name": name_of(rc), "uid": uid_of(rc),
            "controller": True, "blockOwnerDeletion": True}


# -- actions ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Adopt:
    """Make the RC the controller of an orphan its selector matches (no Event, as Kubernetes)."""

    rc: Obj
    pod: Obj

    @property
    def patch(self) -> dict:
        """The strategic merge patch Kubernetes sends (ownerReferences merge on uid; the pod's uid
        makes the patch fail if the pod was replaced meanwhile)."""
        return {"metadata": {"ownerReferences": [owner_reference(self.rc)],
                             "uid": uid_of(self.pod)}}

    def event(self, result: Obj | None = None) -> Event | None:
        return None


@dataclass(frozen=True)
class Release:
    """Drop the RC's ownerReference from a pod its selector no longer matches (no Event)."""

    rc: Obj
    pod: Obj

    @property
    def patch(self) -> dict:
        return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid_of(self.rc)}],
                             "uid": uid_of(self.pod)}}

    def event(self, result: Obj | None = None) -> Event | None:
        return None


@dataclass(frozen=True)
class Create:
    """POST `pod` (built by `pod_from_template`; the server picks the name)."""

    rc: Obj
    pod: Obj

    def event(self, result: Obj | None = None) -> Event:
        """SuccessfulCreate on the RC; `result` is the pod the API returned (it has the name)."""
        return Event(self.rc, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name_of(result)}")

    def failure_event(self, error: str) -> Event:
        return Event(self.rc, WARNING, FAILED_CREATE, f"Error creating: {error}")


@dataclass(frozen=True)
class Delete:
    """Delete a pod: a surplus replica of `rc`, or (rc None) a dependent of a deleted RC."""

    pod: Obj
    rc: Obj | None = None

    @property
    def uid(self) -> str:
        """For a delete precondition, so a pod recreated under the same name is spared."""
        return uid_of(self.pod)

    def event(self, result: Obj | None = None) -> Event | None:
        if self.rc is None:
            return None  # the garbage collector records none
        return Event(self.rc, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name_of(self.pod)}")

    def failure_event(self, error: str) -> Event | None:
        if self.rc is None:
            return None
        return Event(self.rc, WARNING, FAILED_DELETE, f"Error deleting: {error}")


@dataclass(frozen=True)
class UpdateStatus:
    """Write `status` through replicationcontrollers/NAME/status (no Event)."""

    rc: Obj
    status: Obj

    def event(self, result: Obj | None = None) -> Event | None:
        return None


Action = Adopt | Release | Create | Delete | UpdateStatus


@dataclass(frozen=True)
class ReplicationPlan:
    """What one sync of an RC does, in order: claims, then creates or deletes, then the status.

    `requeue_after` asks the loop to sync again later: pods ready but not yet available because of
    spec.minReadySeconds (Kubernetes requeues for the same reason).
    """

    claims: tuple[Adopt | Release, ...] = ()
    changes: tuple[Create | Delete, ...] = ()
    status: UpdateStatus | None = None
    requeue_after: timedelta | None = None

    @property
    def actions(self) -> list[Action]:
        return [*self.claims, *self.changes, *([self.status] if self.status else [])]


# -- the plan --------------------------------------------------------------------------------------

def plan(rc: Obj, pods: Iterable[Obj], now: datetime,
         create_errors: Sequence[str] = ()) -> ReplicationPlan:
    """One sync of `rc`. `pods` may be every pod of the cluster; other namespaces are ignored.

    `create_errors` are the errors of this sync's failed creates (or deletes) as the API worded
    them: give them to get the status Kubernetes writes after a failure (a ReplicaFailure
    condition, FailedCreate when short of pods, FailedDelete when over). The loop runs `plan`,
    carries out `claims` and `changes`, and on failures plans again with the errors for the
    status. An RC being deleted only gets its status updated.
    """
    namespace = meta(rc).get("namespace") or ""
    deleting = is_deleting(rc)
    candidates = sorted((p for p in pods
                         if (meta(p).get("namespace") or "") == namespace and is_active(p)),
                        key=key_of)
    claims, owned = _claim(rc, candidates, _selector(rc), deleting)
    changes = () if deleting else _manage(rc, owned, now)
    status = rc_status(rc, owned, now, create_errors)
    update = UpdateStatus(rc, status) if _comparable(rc.get("status")) != _comparable(status) \
        else None
    return ReplicationPlan(claims, changes, update, _requeue(rc, status, create_errors))


def _selector(rc: Obj) -> Selector:
    """spec.selector (the API defaults it to the template's labels). An empty one selects nothing:
    validation forbids it, and matching every pod of the namespace would be a disaster."""
    spec = rc.get("spec") or {}
    labels = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}) \
        .get("labels")
    return selector_from_set(labels) if labels else NOTHING


def _claim(rc: Obj, pods: list[Obj], selector: Selector,
           deleting: bool) -> tuple[tuple[Adopt | Release, ...], list[Obj]]:
    """Kubernetes' ClaimPods over active pods: ours if it controls them and the selector matches;
    orphans the selector matches are adopted; pods of other controllers are never touched."""
    claims: list[Adopt | Release] = []
    owned = []
    uid = uid_of(rc)
    for pod in pods:
        ref = controller_ref(pod)
        matches = selector.matches(meta(pod).get("labels"))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches:
                owned.append(pod)
            elif not deleting:
                claims.append(Release(rc, pod))
        elif matches and not deleting:
            claims.append(Adopt(rc, pod))
            owned.append(pod)
    return tuple(claims), owned


def _manage(rc: Obj, active: list[Obj], now: datetime) -> tuple[Create | Delete, ...]:
    diff = len(active) - desired_replicas(rc)
    if diff < 0:
        template = pod_from_template(rc)
        return tuple(Create(rc, copy.deepcopy(template))
                     for _ in range(min(-diff, BURST_REPLICAS)))
    if diff > 0:
        victims = deletion_order(active, now)[:min(diff, BURST_REPLICAS)]
        return tuple(Delete(pod, rc) for pod in victims)
    return ()


def desired_replicas(rc: Obj) -> int:
    replicas = (rc.get("spec") or {}).get("replicas")
    return 1 if replicas is None else max(int(replicas), 0)


def pod_from_template(rc: Obj) -> dict:
    """A new pod of `rc` as Kubernetes' GetPodFromTemplate builds it: generateName `<rc>-`,
    the template's labels, annotations and finalizers, the RC as controller, the template's spec.
    """
    template = (rc.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    rc_name = name_of(rc)
    prefix = f"{rc_name}-"
    if names.dns1123_subdomain(names.mask_trailing_dash(prefix)):
        prefix = rc_name  # too long with the dash: Kubernetes drops it
    pod_meta: dict = {"generateName": prefix, "namespace": meta(rc).get("namespace") or ""}
    for key in ("labels", "annotations", "finalizers"):
        if template_meta.get(key):
            pod_meta[key] = copy.deepcopy(template_meta[key])
    pod_meta["ownerReferences"] = [owner_reference(rc)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


# -- which pods go first on scale-down -------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    pod: Obj
    node: str
    phase: int
    ready: bool
    cost: int
    rank: int
    ready_at: datetime | None
    restarts: tuple[int, int]
    created: datetime | None
    uid: str


def deletion_order(pods: Sequence[Obj], now: datetime) -> list[Obj]:
    """`pods` (one RC's active pods) in the order they should be deleted, Kubernetes 1.32's
    ActivePodsWithRanks with LogarithmicScaleDown and PodDeletionCost (both on by default):

    1. not scheduled before scheduled;
    2. phase Pending before Unknown before Running;
    3. not ready before ready;
    4. lower `controller.kubernetes.io/pod-deletion-cost` annotation first (bad values read 0);
    5. more of the RC's pods on the same node first (doubled up before alone);
    6. both ready: ready for a shorter time first, compared in powers of two of nanoseconds
       since `now`, pods in the same bucket by uid (Kubernetes' pseudo-random spread);
    7. more container restarts first (app containers, then restartable init containers);
    8. created later first, in the same logarithmic buckets, then by uid;
    9. Bosun's tie-break, so the order never depends on the input's: namespace, name, uid.

    Kubernetes ranks (5) by its related pods, which for an RC without an owner are none, so every
    rank is 0 there; Bosun ranks by the RC's own pods so a scale-down keeps the pods spread.
    """
    per_node = Counter(node_name_of(pod) for pod in pods)
    candidates = [_candidate(pod, per_node[node_name_of(pod)]) for pod in pods]
    ordered = sorted(candidates, key=functools.cmp_to_key(
        functools.partial(_compare, now=now)))
    return [c.pod for c in ordered]


def _candidate(pod: Obj, rank: int) -> _Candidate:
    status = pod.get("status") or {}
    return _Candidate(
        pod=pod, node=node_name_of(pod), phase=_PHASE_ORDER.get(status.get("phase") or "", 0),
        ready=is_ready(pod), cost=deletion_cost(pod), rank=rank, ready_at=ready_since(pod),
        restarts=_restarts(pod), created=parse_time(meta(pod).get("creationTimestamp")),
        uid=uid_of(pod))


def _compare(a: _Candidate, b: _Candidate, now: datetime) -> int:
    """-1 when `a` should be deleted before `b` (steps as in `deletion_order`)."""
    if a.node != b.node and not (a.node and b.node):
        return -1 if not a.node else 1
    # Each pair reads (a, b) where the smaller goes first.
    for mine, theirs in ((a.phase, b.phase), (a.ready, b.ready), (a.cost, b.cost),
                         (b.rank, a.rank)):
        if mine != theirs:
            return -1 if mine < theirs else 1
    if a.ready and b.ready and a.ready_at != b.ready_at:
        if order := _time_order(a.ready_at, b.ready_at, a.uid, b.uid, now):
            return order
    if a.restarts != b.restarts:
        return -1 if a.restarts > b.restarts else 1
    if a.created != b.created:
        if order := _time_order(a.created, b.created, a.uid, b.uid, now):
            return order
    return _sign(key_of(a.pod), key_of(b.pod))


def _time_order(first: datetime | None, second: datetime | None, first_uid: str,
                second_uid: str, now: datetime) -> int:
    """Newer first; a missing time before any; the same power-of-two age bucket by uid."""
    if first is None or second is None:
        return -1 if first is None else 1
    bucket = _log2_age(first, now) - _log2_age(second, now)
    if bucket == 0:
        return _sign(first_uid, second_uid)
    return -1 if bucket < 0 else 1


def _log2_age(moment: datetime, now: datetime) -> int:
    """floor(log2(nanoseconds from `moment` to `now`)), -1 when not in the past."""
    age = now - moment
    nanos = (age.days * 86_400 + age.seconds) * 10**9 + age.microseconds * 1000
    return nanos.bit_length() - 1 if nanos > 0 else -1


def _sign(first: object, second: object) -> int:
    return (first > second) - (first < second)  # type: ignore[operator]


def deletion_cost(pod: Obj) -> int:
    """The pod-deletion-cost annotation as Kubernetes reads it: an int32, else 0."""
    value = (meta(pod).get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    if not isinstance(value, str) or not _INT32.fullmatch(value):
        return 0
    cost = int(value)
    return cost if -(2**31) <= cost < 2**31 else 0


def _restarts(pod: Obj) -> tuple[int, int]:
    """The most restarts of an app container, then of a restartable (sidecar) init container."""
    status = pod.get("status") or {}
    app = max((int(s.get("restartCount") or 0) for s in status.get("containerStatuses") or ()),
              default=0)
    sidecars = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or ()
                if c.get("restartPolicy") == "Always"}
    side = max((int(s.get("restartCount") or 0)
                for s in status.get("initContainerStatuses") or () if s.get("name") in sidecars),
               default=0)
    return app, side


# -- status ----------------------------------------------------------------------------------------

def rc_status(rc: Obj, owned: Sequence[Obj], now: datetime,
              errors: Sequence[str] = ()) -> dict:
    """The status Kubernetes' calculateStatus gives `rc` whose active pods are `owned`, written as
    the API serializes it (zero counts and empty conditions left out; replicas always there)."""
    spec = rc.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    template = selector_from_set(template_labels)
    min_ready = timedelta(seconds=int(spec.get("minReadySeconds") or 0))
    ready = [pod for pod in owned if is_ready(pod)]
    counts = {
        "fullyLabeledReplicas": sum(template.matches(meta(p).get("labels")) for p in owned),
        "readyReplicas": len(ready),
        "availableReplicas": sum(_available(pod, min_ready, now) for pod in ready),
        "observedGeneration": int(meta(rc).get("generation") or 0),
    }
    status: dict = {"replicas": len(owned)}
    status.update((key, value) for key, value in counts.items() if value)
    old = rc.get("status") or {}
    conditions = _conditions(old.get("conditions") or [], errors,
                             len(owned) - desired_replicas(rc), now)
    if conditions:
        status["conditions"] = conditions
    return status


def _available(pod: Obj, min_ready: timedelta, now: datetime) -> bool:
    if not min_ready:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready < now


def _conditions(old: list, errors: Sequence[str], diff: int, now: datetime) -> list:
    """ReplicaFailure appears with the first error and stays unchanged until a sync without one."""
    failing = any(c.get("type") == REPLICA_FAILURE for c in old)
    if errors and not failing:
        reason = FAILED_CREATE if diff < 0 else FAILED_DELETE if diff > 0 else ""
        condition = {"type": REPLICA_FAILURE, "status": "True",
                     "lastTransitionTime": format_time(now), "reason": reason, "message": errors[0]}
        return [*copy.deepcopy(old), condition]
    if not errors and failing:
        return [copy.deepcopy(c) for c in old if c.get("type") != REPLICA_FAILURE]
    return copy.deepcopy(old)


def _comparable(status: Mapping | None) -> tuple:
    status = status or {}
    return (int(status.get("replicas") or 0), int(status.get("fullyLabeledReplicas") or 0),
            int(status.get("readyReplicas") or 0), int(status.get("availableReplicas") or 0),
            int(status.get("observedGeneration") or 0), list(status.get("conditions") or []))


def _requeue(rc: Obj, status: Obj, errors: Sequence[str]) -> timedelta | None:
    seconds = int((rc.get("spec") or {}).get("minReadySeconds") or 0)
    want = desired_replicas(rc)
    if errors or seconds <= 0:
        return None
    if status.get("readyReplicas", 0) == want and status.get("availableReplicas", 0) != want:
        return timedelta(seconds=seconds)
    return None


# -- the garbage collector's part ------------------------------------------------------------------

def orphans_of_deleted(rc_uid: str, pods: Iterable[Obj]) -> list[Delete]:
    """Background cascade: delete the pods whose only owner is the RC `rc_uid`, now gone.

    Pods already being deleted are left alone. A pod with other owners as well is left too (the
    Kubernetes garbage collector would only drop the dangling reference). With
    `--cascade=orphan` the API has removed the ownerReferences before the RC went, so nothing
    points at it any more; with `--cascade=foreground` call this while the RC still exists.
    """
    return [Delete(pod) for pod in sorted(pods, key=key_of)
            if not is_deleting(pod) and _only_owner(pod) == rc_uid]


def orphans_of_missing(rc_uids: Collection[str], pods: Iterable[Obj]) -> list[Delete]:
    """Pods whose only owner is an RC not among `rc_uids` (the uids of every existing RC): what a
    delete missed while no controller ran leaves behind.

    `rc_uids` must come from a complete, current list of RCs (a fresh list from the API, not a
    cache still filling): an RC missing from it loses its pods.
    """
    missing = []
    for pod in sorted(pods, key=key_of):
        refs = meta(pod).get("ownerReferences") or []
        owner = _only_owner(pod)
        if owner and not is_deleting(pod) and owner not in rc_uids and refs[0].get("kind") == KIND:
            missing.append(Delete(pod))
    return missing


def _only_owner(pod: Obj) -> str:
    """The uid of the pod's single owner, "" when it has none or several."""
    refs = meta(pod).get("ownerReferences") or []
    uids = {ref.get("uid") for ref in refs if isinstance(ref, Mapping)}
    return next(iter(uids)) if len(uids) == 1 and len(refs) == len(uids) else ""
