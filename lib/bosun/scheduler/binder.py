"""One scheduling pass: place every pending pod through pods/NAME/binding, or say why not.

Reads the cluster through the in-process API, asks the pure `schedule_all`, and writes a Binding
per placed pod (a 409 means someone bound it first: fine) and a Scheduled or FailedScheduling
event per decision. Pods that fit nowhere stay Pending; the next pass, woken by a node or pod
change, tries them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.events import EventRecorder
from bosun.objects.status import ApiError, Conflict, NotFound
from bosun.scheduler.plan import Bind, schedule_all


@dataclass(frozen=True)
class PassResult:
    bound: int
    unschedulable: int
    failed: int

    @property
    def converged(self) -> bool:
        return self.unschedulable == 0 and self.failed == 0


def pending(pods: list[dict]) -> list[dict]:
    """Pods waiting for a node: no nodeName, not being deleted, not finished."""
    return [p for p in pods
            if not (p.get("spec") or {}).get("nodeName")
            and not p["metadata"].get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


def all_of(api, resource: str) -> list[dict]:
    """Every object of `resource` in every namespace, read through the in-process API."""
    return api.list(Target(resource), Query())["items"]


def schedule_pass(api, recorder: EventRecorder) -> PassResult:
    """Bind what can be bound. Raises ApiError only when the cluster cannot be read."""
    pods = all_of(api, "pods")
    waiting = pending(pods)
    if not waiting:
        return PassResult(0, 0, 0)
    nodes, services, rcs = all_of(api, "nodes"), all_of(api, "services"), all_of(
        api, "replicationcontrollers")
    waiting.sort(key=lambda p: (p["metadata"].get("creationTimestamp", ""),
                                p["metadata"]["name"]))
    bound = unschedulable = failed = 0
    for pod, decision in schedule_all(waiting, nodes, pods, services, rcs):
        meta = pod["metadata"]
        if not isinstance(decision, Bind):
            unschedulable += 1
            recorder.warning(pod, "FailedScheduling", decision.message)
            continue
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                "uid": meta.get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": decision.node_name}}
        try:
            api.create(Target("pods", meta["namespace"], meta["name"], "binding"), binding,
                       Query())
        except (Conflict, NotFound):
            continue  # bound by someone else, or deleted meanwhile
        except ApiError:
            failed += 1
            continue
        bound += 1
        recorder.normal(pod, "Scheduled", f"Successfully assigned {meta['namespace']}/"
                        f"{meta['name']} to {decision.node_name}")
    return PassResult(bound, unschedulable, failed)
