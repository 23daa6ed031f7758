"""The control loops Bosun runs, as `Loop`s for the controller manager.

Each pass reads through the in-process API, asks a pure plan, and writes back through the API,
so every write is validated and conditional like a client's. Each returns whether it found the
cluster converged (nothing left to do that it could do now).
"""

from __future__ import annotations

from bosun.api.patchtypes import STRATEGIC
from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.controllers import replication
from bosun.controllers.manager import Loop
from bosun.events import EventRecorder
from bosun.objects.status import ApiError, Conflict, NotFound
from bosun.scheduler import binder


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


def _all(api, resource: str) -> list[dict]:
    return api.list(Target(resource), Query())["items"]


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
    pods = _all(api, "pods")  # pods before RCs: an RC made in between keeps its new pods
    rcs = _all(api, "replicationcontrollers")
    converged = True
    for rc in rcs:
        planned = replication.plan(rc, pods, api.now())
        errors = [e for e in (_carry_out(api, recorder, a) for a in
                              (*planned.claims, *planned.changes)) if e]
        status = planned.status
        if planned.changes or planned.claims or errors:
            converged = False
            fresh = _all(api, "pods")
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


def build_loops(api) -> list[Loop]:
    """Every loop, in the order `reconcile --once` runs them."""
    return [replication_loop(api), scheduler_loop(api)]
