"""The control loops Bosun runs, as `Loop`s for the controller manager.

Each pass reads through the in-process API, asks a pure plan, and writes back through the API,
so every write is validated and conditional like a client's. Each returns whether it found the
cluster converged (nothing left to do that it could do now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bosun.api.patchtypes import MERGE, STRATEGIC
from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.controllers import endpoints, nodelifecycle, replication
from bosun.controllers.manager import Loop
from bosun.events import EventRecorder
from bosun.objects.status import ApiError, Conflict, NotFound
from bosun.scheduler import binder
from bosun.scheduler.binder import all_of


def recorder_for(api, component: str) -> EventRecorder:
    return EventRecorder(
        component, "",
        lambda ns, event: api.create(Target("events", ns), event, Query())[0],
        lambda ns, name, event: api.update(Target("events", ns, name), event, Query())[0],
        api.now)


def scheduler_loop(api) -> Loop:
    recorder = recorder_for(api, "default-scheduler")
    return Loop("scheduler", lambda: binder.schedule_pass(api, recorder).converged,
                watches=("pods", "nodes"))


def _say(recorder: EventRecorder, event) -> None:
    if event is not None:
        recorder.record(event.about, event.type, event.reason, event.message)


def _pod_target(pod: dict) -> Target:
    return Target("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])


def _carry_out(api, recorder: EventRecorder, action) -> str | None:
    """One claim/create/delete of the replication manager; the API's error text if it failed."""
    try:
        if isinstance(action, replication.Adopt | replication.Release):
            api.patch(_pod_target(action.pod), STRATEGIC, action.patch, Query())
            return None
        if isinstance(action, replication.Create):
            namespace = action.rc["metadata"]["namespace"]
            created, _ = api.create(Target("pods", namespace), action.pod, Query())
            _say(recorder, action.event(created))
            return None
        api.delete(_pod_target(action.pod), Query(), {"preconditions": {"uid": action.uid}})
        _say(recorder, action.event())
        return None
    except (Conflict, NotFound):
        return None  # someone else changed or removed it: the next pass sees the truth
    except ApiError as error:
        if hasattr(action, "failure_event"):
            _say(recorder, action.failure_event(error.message))
        return error.message


def replication_pass(api, recorder: EventRecorder) -> bool:
    """Every RC to its replica count; pods of deleted RCs removed (background cascade)."""
    pods = all_of(api, "pods")  # pods before RCs: an RC made in between keeps its new pods
    rcs = all_of(api, "replicationcontrollers")
    converged = True
    for rc in rcs:
        planned = replication.plan(rc, pods, api.now())
        errors = [e for e in (_carry_out(api, recorder, a) for a in
                              (*planned.claims, *planned.changes)) if e]
        status = planned.status
        if planned.changes or planned.claims or errors:
            converged = False
            fresh = all_of(api, "pods")
            status = replication.plan(rc, fresh, api.now(), errors).status
        if status is not None:
            _write_rc_status(api, rc, status.status)
    for delete in replication.orphans_of_missing({rc["metadata"]["uid"] for rc in rcs}, pods):
        converged = False
        _carry_out(api, recorder, delete)
    return converged


def _write_rc_status(api, rc: dict, status: dict) -> None:
    meta = rc["metadata"]
    try:
        api.update(Target("replicationcontrollers", meta["namespace"], meta["name"], "status"),
                   {**rc, "status": status}, Query())
    except (Conflict, NotFound):
        pass  # the RC moved on: the next pass writes the status of what it is now


def replication_loop(api) -> Loop:
    recorder = recorder_for(api, "replication-controller")
    return Loop("replication", lambda: replication_pass(api, recorder),
                watches=("replicationcontrollers", "pods"))


def endpoints_pass(api, recorder: EventRecorder) -> bool:
    """One Endpoints per service with a selector: ready pods' addresses, written on change."""
    pods, services = all_of(api, "pods"), all_of(api, "services")
    current = {(e["metadata"]["namespace"], e["metadata"]["name"]): e
               for e in all_of(api, "endpoints")}
    for service in services:
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        action = endpoints.plan(service, pods, current.get(key))
        if action is None:
            continue
        target = Target("endpoints", key[0], None if action.create else key[1])
        try:
            if action.create:
                api.create(target, action.endpoints, Query())
            else:
                api.update(target, action.endpoints, Query())
        except (Conflict, NotFound):
            return False  # changed meanwhile: the watch wakes the loop again
        except ApiError as error:
            _say(recorder, action.failure_event(error.message))
            return False
    gone = [e for key, e in current.items()
            if key not in {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in services}]
    for orphan in gone:
        try:
            api.delete(Target("endpoints", orphan["metadata"]["namespace"],
                              orphan["metadata"]["name"]), Query(), {})
        except NotFound:
            pass
    return True


def nodelifecycle_pass(api, recorder: EventRecorder, options: ControllerOptions) -> bool:
    """Minions that stopped answering turn Unknown; after the timeout their pods go."""
    pods, nodes = all_of(api, "pods"), all_of(api, "nodes")
    actions = nodelifecycle.plan(nodes, pods, api.now(), options.node_grace,
                                 options.eviction_timeout)
    for action in actions:
        try:
            _node_action(api, action)
        except (Conflict, NotFound):
            continue
        _say(recorder, action.event())
    # A minion not Ready has evictions coming: look again soon rather than at the next resync,
    # so its pods move close to the timeout.
    return not any(isinstance(a, nodelifecycle.Evict) for a in actions) and all(
        _ready(node) for node in nodes)


def _ready(node: dict) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _node_action(api, action) -> None:
    if isinstance(action, nodelifecycle.MarkNotReady):
        name = action.node["metadata"]["name"]
        api.update(Target("nodes", None, name, "status"),
                   {**action.node, "status": action.status}, Query())
    elif isinstance(action, nodelifecycle.SetTaints):
        api.patch(Target("nodes", None, action.node["metadata"]["name"]), MERGE, action.patch,
                  Query())
    elif isinstance(action, nodelifecycle.MarkPodNotReady):
        meta = action.pod["metadata"]
        api.update(Target("pods", meta["namespace"], meta["name"], "status"),
                   {**action.pod, "status": action.status}, Query())
    else:
        api.delete(_pod_target(action.pod), Query(), {"preconditions": {"uid": action.uid}})


# The kubelet marks a minion it cannot reach Unknown at once (one failed pass: an SSH connect
# timeout of 5 s, within one 10 s resync); 15 s later its pods are deleted and their
# replacements start elsewhere within seconds: about 20-30 s from the loss (issue 5's goal:
# within 30 s). Kubernetes waits 40 s and then 5 min.
EVICTION_TIMEOUT = timedelta(seconds=15)


@dataclass(frozen=True)
class ControllerOptions:
    """How long a minion may be silent before it is NotReady, and before its pods move."""

    node_grace: timedelta = nodelifecycle.NODE_MONITOR_GRACE_PERIOD
    eviction_timeout: timedelta = EVICTION_TIMEOUT


def build_loops(api, options: ControllerOptions | None = None) -> list[Loop]:
    """Every loop, in the order `reconcile --once` runs them."""
    options = options or ControllerOptions()
    nodes = recorder_for(api, "node-controller")
    endpoint_events = recorder_for(api, "endpoint-controller")
    return [
        Loop("node-lifecycle", lambda: nodelifecycle_pass(api, nodes, options),
             watches=("nodes",)),
        replication_loop(api),
        scheduler_loop(api),
        Loop("endpoints", lambda: endpoints_pass(api, endpoint_events),
             watches=("services", "pods", "endpoints")),
    ]
