"""A pod's `status` as the kubelet reports it, from the containers observed on its minion.

Pure: `pod_status` computes phase, conditions, IPs and containerStatuses the way Kubernetes 1.32
does (dockershim's `docker://` ids), keeping what must stay stable across passes (startTime,
lastTransitionTime of unchanged conditions, podIP while the infra container is down). The loop
writes the result through the API only when it differs from the pod's current status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from bosun.kubelet.model import INFRA, ImageProblem, ObservedContainer
from bosun.kubelet.plan import (
    TERMINAL_PHASES,
    attempt_backoff,
    effective_exit_code,
    image_present,
)
from bosun.objects.defaults import qos_class

NO_BACKOFFS: Mapping[str, datetime] = MappingProxyType({})
NO_PROBLEMS: Mapping[tuple[str, str], ImageProblem] = MappingProxyType({})
CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled")


def timestamp(when: datetime | None) -> str | None:
    """RFC 3339 in UTC with whole seconds, as the API prints times."""
    if when is None:
        return None
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_duration(seconds: float) -> str:
    """Go's time.Duration text for whole seconds: `10s`, `1m20s`, `5m0s`, `1h0m0s`."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def image_ref(image_id: str) -> str:
    """imageID as dockershim reported it: `docker-pullable://repo@sha256:...` for an image known
    by a registry digest, `docker://sha256:...` for one that only has a local id (every image
    loaded by `image push`, which is how images reach Bosun's minions)."""
    if not image_id:
        return ""
    return f"docker-pullable://{image_id}" if "@" in image_id else f"docker://{image_id}"


def pod_status(pod: Mapping, containers: list[ObservedContainer], node_ip: str, now: datetime,
               image_problems: Mapping[tuple[str, str], ImageProblem] = NO_PROBLEMS,
               backoffs: Mapping[str, datetime] = NO_BACKOFFS, *,
               images: frozenset[str] | None = None) -> dict:
    """The pod's new `status`.

    `containers` are the observed containers of this pod (infra included), `image_problems` the
    failed pulls by (pod uid, container), `backoffs` the restart backoffs by container name (a
    dead container with one is in CrashLoopBackOff). With `images` (the minion's), a container
    of imagePullPolicy Never whose image is missing says ErrImageNeverPull.
    """
    old = dict(pod.get("status") or {})
    spec = pod["spec"]
    infra = [c for c in containers if c.container == INFRA]
    running_infra = max((c for c in infra if c.running), key=lambda c: c.attempt, default=None)
    view = _PodView(pod, containers, now, image_problems, backoffs, images)
    statuses = sorted((view.container_status(c) for c in spec.get("containers") or []),
                      key=lambda s: s["name"])
    phase = _phase(statuses, spec.get("restartPolicy") or "Always", old.get("phase"))
    status = {**old, "phase": phase,
              "conditions": _conditions(old, running_infra is not None, spec, statuses, phase,
                                        now),
              "containerStatuses": statuses,
              "qosClass": old.get("qosClass") or qos_class(dict(spec))}
    if node_ip:
        status.update(hostIP=node_ip, hostIPs=[{"ip": node_ip}])
    pod_ip = _pod_ip(spec, running_infra, node_ip, old)
    if pod_ip:
        status.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    if not old.get("startTime") and infra:
        status["startTime"] = timestamp(min(c.created for c in infra))
    return status


def _pod_ip(spec: Mapping, infra: ObservedContainer | None, node_ip: str, old: Mapping) -> str:
    if spec.get("hostNetwork") is True:
        return node_ip
    if infra is not None and infra.ip:
        return infra.ip
    return old.get("podIP") or ""  # kept while the infra container is down or gone


# -- containers -----------------------------------------------------------------------------------

class _PodView:
    """The observed attempts of each of the pod's containers, and what waits on them."""

    def __init__(self, pod: Mapping, containers: list[ObservedContainer], now: datetime,
                 problems: Mapping[tuple[str, str], ImageProblem],
                 backoffs: Mapping[str, datetime], images: frozenset[str] | None) -> None:
        self.pod, self.now, self.uid = pod, now, pod["metadata"]["uid"]
        self.problems, self.backoffs, self.images = problems, backoffs, images
        self.attempts: dict[str, list[ObservedContainer]] = defaultdict(list)
        for container in sorted(containers, key=lambda c: (c.attempt, c.id)):
            if container.container != INFRA:
                self.attempts[container.container].append(container)
        old = (pod.get("status") or {}).get("containerStatuses") or []
        self.old = {s.get("name"): s for s in old if isinstance(s, dict)}
        self.terminal = (pod.get("status") or {}).get("phase") in TERMINAL_PHASES

    def container_status(self, spec: Mapping) -> dict:
        name = spec["name"]
        attempts = self.attempts.get(name, [])
        if not attempts and self.terminal and "terminated" in (self.old.get(name) or {}).get(
                "state", {}):
            return self.old[name]  # removed after the pod finished: its last word stands
        newest = attempts[-1] if attempts else None
        previous = attempts[-2] if len(attempts) > 1 else None
        status = {"name": name, "image": spec.get("image") or "", "imageID": "", "ready": False,
                  "started": False, "restartCount": 0, "state": {}, "lastState": {}}
        if newest is not None:
            status.update(imageID=image_ref(newest.image_id), containerID=_docker_id(newest),
                          restartCount=newest.attempt)
        if newest is not None and newest.running:
            status.update(ready=True, started=True,
                          state={"running": {"startedAt": timestamp(newest.started)}})
            status["lastState"] = _terminated_state(previous)
            return status
        waiting = self._waiting(spec, newest)
        if waiting is not None:
            status["state"] = {"waiting": waiting}
            status["lastState"] = _terminated_state(newest)
        elif newest is not None:
            status["state"] = _terminated_state(newest)
            status["lastState"] = _terminated_state(previous)
        return status

    def _waiting(self, spec: Mapping, newest: ObservedContainer | None) -> dict | None:
        """Why a container that does not run waits, or None for a dead one that stays dead (or
        will be restarted right away: it shows as terminated until then, as in Kubernetes)."""
        name, image = spec["name"], spec.get("image") or ""
        missing = self.images is not None and not image_present(image, self.images)
        problem = self.problems.get((self.uid, name))
        if problem is not None and (self.images is None or missing):
            return {"reason": problem.reason, "message": problem.message}
        if missing and spec.get("imagePullPolicy") == "Never":
            return {"reason": "ErrImageNeverPull",
                    "message": f'Container image "{image}" is not present with pull policy of '
                               "Never"}
        if newest is not None and name in self.backoffs:
            meta = self.pod["metadata"]
            return {"reason": "CrashLoopBackOff",
                    "message": f"back-off {go_duration(attempt_backoff(newest))} restarting "
                               f"failed container={name} pod={meta['name']}_"
                               f"{meta.get('namespace') or 'default'}({self.uid})"}
        if newest is None:
            return {"reason": "ContainerCreating"}
        return None


def _docker_id(container: ObservedContainer) -> str:
    return f"docker://{container.id}"


def _terminated_state(container: ObservedContainer | None) -> dict:
    """`{"terminated": ...}` for a dead container (exit code, Completed/Error/OOMKilled, times);
    {} for none. A container Docker could not start says ContainerCannotRun."""
    if container is None or container.running:
        return {}
    code = effective_exit_code(container)
    if container.state == "created" or container.started is None:
        reason = "ContainerCannotRun"
    elif container.reason == "OOMKilled":
        reason = "OOMKilled"
    else:
        reason = "Completed" if code == 0 else "Error"
    terminated = {"exitCode": 128 if code is None else code, "reason": reason,
                  "containerID": _docker_id(container)}
    if container.reason and container.reason != "OOMKilled":
        terminated["message"] = container.reason
    if container.started is not None:
        terminated["startedAt"] = timestamp(container.started)
    terminated["finishedAt"] = timestamp(container.finished or container.started
                                         or container.created)
    return {"terminated": terminated}


# -- phase and conditions -------------------------------------------------------------------------

def _phase(statuses: list[dict], restart_policy: str, old_phase: str | None) -> str:
    """Pending while any container waits for its first start; Running while one runs; once all
    stopped: Succeeded when all exited 0, else Failed under Never, else Running (restarts
    follow). A terminal phase stays, as the API requires."""
    if old_phase in TERMINAL_PHASES:
        return old_phase
    waiting = running = stopped = succeeded = 0
    for status in statuses:
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in status["lastState"]:
            stopped += 1  # waiting to be restarted
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if not stopped:
        return "Pending"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Failed" if restart_policy == "Never" else "Running"


def _conditions(old: Mapping, sandbox: bool, spec: Mapping, statuses: list[dict], phase: str,
                now: datetime) -> list[dict]:
    unready = [c["name"] for c in spec.get("containers") or []
               if not next((s["ready"] for s in statuses if s["name"] == c["name"]), False)]
    if phase in TERMINAL_PHASES:
        ready = ("False", "PodCompleted" if phase == "Succeeded" else "PodFailed", None)
    elif unready:
        ready = ("False", "ContainersNotReady",
                 f"containers with unready status: [{' '.join(unready)}]")
    else:
        ready = ("True", None, None)
    wanted = {"PodReadyToStartContainers": ("True" if sandbox else "False", None, None),
              "Initialized": ("True", None, None), "Ready": ready, "ContainersReady": ready,
              "PodScheduled": ("True", None, None)}
    previous = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
    conditions = []
    for kind in CONDITION_ORDER:
        before = previous.get(kind)
        if kind == "PodScheduled" and before is not None:
            conditions.append(before)  # the scheduler's word
            continue
        value, reason, message = wanted[kind]
        condition = {"type": kind, "status": value, "lastProbeTime": None}
        same = before is not None and before.get("status") == value
        condition["lastTransitionTime"] = (same and before.get("lastTransitionTime")
                                           or timestamp(now))
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        conditions.append(condition)
    others = [c for kind, c in previous.items() if kind not in CONDITION_ORDER]
    return conditions + others
