"""The kubelet's decision for one minion: the pods bound to it vs the containers seen on it.

Pure: `plan` returns the actions that bring the minion closer to its pods, in an order that runs
in sequence: orphans first (they may hold host ports new pods want), then pods being deleted or
finished, then every other pod, each with its infra container before its app containers. A pass
over a minion where everything runs as specified returns []. An executor that sees one action of
a pod fail should skip that pod's later actions (a StartContainer after a failed PullImage).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from bosun.kubelet import spec as kspec
from bosun.kubelet.model import (
    BACKOFF_MAX,
    BACKOFF_RESET_AFTER,
    BACKOFF_START,
    INFRA,
    Action,
    ImageProblem,
    KillContainer,
    Observed,
    ObservedContainer,
    PullImage,
    RemoveContainer,
    RemovePodFiles,
    StartContainer,
    StartInfra,
    WaitBackoff,
)

NO_PROBLEMS: Mapping[tuple[str, str], ImageProblem] = MappingProxyType({})
TERMINAL_PHASES = ("Succeeded", "Failed")

STOPPING = "Stopping container {}"
CHANGED = "Container {} definition changed, will be restarted"
SANDBOX_CHANGED = "Pod sandbox changed, it will be killed and re-created."
DUPLICATE = "Container {} has a newer attempt running"
FINISHED = "Pod has finished"


def plan(node: str, pods: list[dict], observed: Observed, now: datetime,
         image_problems: Mapping[tuple[str, str], ImageProblem] = NO_PROBLEMS) -> list[Action]:
    """The actions for minion `node`.

    `pods` are the pods bound to it (from the API; one bound elsewhere counts as absent),
    `image_problems` the failed pulls, by (pod uid, container name). Deterministic: the same
    input gives the same list.
    """
    ours = sorted((p for p in pods if (p.get("spec") or {}).get("nodeName") == node),
                  key=_pod_key)
    by_uid: dict[str, list[ObservedContainer]] = defaultdict(list)
    for container in observed.containers:
        by_uid[container.pod_uid].append(container)
    wanted = {pod["metadata"]["uid"] for pod in ours}
    actions: list[Action] = []
    for uid in sorted(set(by_uid) - wanted):
        actions += _tear_down(uid, by_uid[uid], None)
    going = [p for p in ours if p["metadata"].get("deletionTimestamp")]
    for pod in going:
        actions += _tear_down(pod["metadata"]["uid"], by_uid.get(pod["metadata"]["uid"], []),
                              _deletion_grace(pod))
    for pod in ours:
        if not pod["metadata"].get("deletionTimestamp"):
            sync = _PodSync(pod, by_uid.get(pod["metadata"]["uid"], []), observed.images, now,
                            image_problems)
            actions += sync.actions()
    return actions


def _pod_key(pod: Mapping) -> tuple[str, str, str]:
    meta = pod["metadata"]
    return meta.get("namespace") or "", meta.get("name") or "", meta.get("uid") or ""


def _deletion_grace(pod: Mapping) -> float:
    """The grace a deleted pod's containers get: the deletion's, else the pod's own."""
    grace = pod["metadata"].get("deletionGracePeriodSeconds")
    return _spec_grace(pod["spec"]) if grace is None else float(max(0, grace))


def _spec_grace(spec: Mapping) -> float:
    grace = spec.get("terminationGracePeriodSeconds")
    return float(kspec.DEFAULT_GRACE if grace is None else max(0, grace))


def _apps_first(containers: list[ObservedContainer]) -> list[ObservedContainer]:
    """App containers before the infra container (it holds their network), then by attempt."""
    return sorted(containers, key=lambda c: (c.container == INFRA, c.container, c.attempt, c.id))


def _tear_down(uid: str, containers: list[ObservedContainer], grace: float | None) -> list[Action]:
    """Kill and remove every container of a pod that is gone (grace from each container's label)
    or being deleted (`grace` from the pod), then its files."""
    actions: list[Action] = []
    for container in _apps_first(containers):
        if container.running:
            wait = grace if grace is not None else _label_grace(container)
            actions.append(KillContainer(uid, container.id, container.container, wait,
                                         STOPPING.format(container.container), remove=True))
        elif container.state != "removing":
            actions.append(RemoveContainer(uid, container.id))
    if containers:
        actions.append(RemovePodFiles(uid))
    return actions


def _label_grace(container: ObservedContainer) -> float:
    return float(kspec.DEFAULT_GRACE if container.grace is None else max(0.0, container.grace))


# -- image presence -------------------------------------------------------------------------------

def image_names(image: str) -> set[str]:
    """The names Docker may list an image reference under (`nginx` -> `nginx:latest`,
    `docker.io/library/nginx:1` -> `nginx:1`)."""
    names = {image}
    last = image.rsplit("/", 1)[-1]
    if "@" not in image and ":" not in last:
        names.add(f"{image}:latest")
    for name in list(names):
        for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
            if name.startswith(prefix):
                names.add(name[len(prefix):])
    return names


def image_present(image: str, images: frozenset[str]) -> bool:
    return not image_names(image).isdisjoint(images)


def effective_exit_code(container: ObservedContainer) -> int | None:
    """A dead container's exit code; one Docker never started (a failed start, or a controller
    killed between create and start) counts as a failure, 128 unless Docker said otherwise."""
    if container.state == "created" or container.started is None:
        return container.exit_code or 128
    return container.exit_code


def should_restart(restart_policy: str, exit_code: int | None) -> bool:
    """Whether a dead container comes back: Always always, OnFailure on a non-zero exit (an
    unknown exit code counts as a failure), Never never."""
    if restart_policy == "Never":
        return False
    return restart_policy != "OnFailure" or exit_code != 0


def attempt_backoff(container: ObservedContainer) -> float:
    """The backoff an attempt started with: its label, or without one, what it would be had every
    restart so far followed a crash (0, 10, 20, ... 300)."""
    if container.backoff is not None:
        return container.backoff
    if container.attempt == 0:
        return 0.0
    return min(BACKOFF_MAX, BACKOFF_START * 2 ** min(container.attempt - 1, 16))


def restart_backoff(dead: ObservedContainer, now: datetime) -> tuple[datetime | None, float]:
    """(when the restart of `dead` may happen, None for now; the backoff the new attempt gets).

    As the kubelet: the first restart is immediate, each further one waits the backoff the dead
    attempt started with (10 s, doubled per restart, at most 5 min); a container that ran 10
    minutes or more starts the sequence over.
    """
    backoff = attempt_backoff(dead)
    finished = dead.finished or dead.started or dead.created
    ran = (finished - dead.started).total_seconds() if dead.started else 0.0
    if backoff <= 0 or ran >= BACKOFF_RESET_AFTER:
        return None, BACKOFF_START
    until = finished + timedelta(seconds=backoff)
    if now < until:
        return until, backoff
    return None, min(BACKOFF_MAX, backoff * 2)


def pod_finished(pod: Mapping, apps: Mapping[str, list[ObservedContainer]]) -> bool:
    """A pod that will run nothing more: its phase is Succeeded/Failed, or (restartPolicy Never
    or OnFailure) every container's newest attempt exited and none will be restarted."""
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return True
    policy = pod["spec"].get("restartPolicy") or "Always"
    if policy == "Always":
        return False
    for container in pod["spec"].get("containers") or []:
        attempts = apps.get(container["name"])
        if not attempts:
            return False
        newest = max(attempts, key=lambda c: c.attempt)
        if newest.running or should_restart(policy, effective_exit_code(newest)):
            return False
    return True


# -- one pod --------------------------------------------------------------------------------------

@dataclass
class _Start:
    """A container to (re)start in this pass: its attempt and the backoff it starts with."""

    attempt: int
    backoff: float


class _PodSync:
    """The actions for one pod that should run on this minion."""

    def __init__(self, pod: dict, containers: list[ObservedContainer], images: frozenset[str],
                 now: datetime, problems: Mapping[tuple[str, str], ImageProblem]) -> None:
        self.pod, self.uid, self.now = pod, pod["metadata"]["uid"], now
        self.images, self.problems = images, problems
        self.policy = pod["spec"].get("restartPolicy") or "Always"
        self.grace = _spec_grace(pod["spec"])
        self.infra = sorted((c for c in containers if c.container == INFRA),
                            key=lambda c: (c.attempt, c.id))
        self.apps: dict[str, list[ObservedContainer]] = defaultdict(list)
        for container in containers:
            if container.container != INFRA:
                self.apps[container.container].append(container)
        for attempts in self.apps.values():
            attempts.sort(key=lambda c: (c.attempt, c.id))
        self.out: list[Action] = []
        self.killed: set[str] = set()

    def actions(self) -> list[Action]:
        if pod_finished(self.pod, self.apps):
            self._finished()
            return self.out
        infra_ref, rejoin = self._infra()
        if infra_ref is None:
            self._trim()
            return self.out
        for container in self.pod["spec"].get("containers") or []:
            self._container(container, infra_ref, rejoin)
        self._stray_containers()
        return self.out

    def _kill(self, container: ObservedContainer, reason: str, remove: bool = False) -> None:
        if container.id in self.killed:
            return
        self.killed.add(container.id)
        self.out.append(KillContainer(self.uid, container.id, container.container,
                                           self.grace, reason, remove=remove))

    def _remove_dead(self, containers: list[ObservedContainer]) -> None:
        for container in containers:
            if not container.running and container.state != "removing":
                self.out.append(RemoveContainer(self.uid, container.id))

    def _finished(self) -> None:
        """Nothing more runs: stop what still does, keep the newest exited attempts for logs and
        status, drop the infra container."""
        for name in sorted(self.apps):
            for container in self.apps[name][-2:]:
                if container.running:
                    self._kill(container, FINISHED)
        self._trim()
        for container in self.infra:
            if container.running:
                self._kill(container, FINISHED, remove=True)
        self._remove_dead(self.infra)

    def _trim(self) -> None:
        """Drop all but the two newest attempts of each container (they give the status its
        state and lastState, and `kubectl logs --previous` its text)."""
        for name in sorted(self.apps):
            older = self.apps[name][:-2]
            for container in older:
                if container.running:
                    self._kill(container, DUPLICATE.format(name), remove=True)
            self._remove_dead(older)

    def _infra(self) -> tuple[str | None, set[str]]:
        """(what the app containers join, None when the pod cannot get a network; names of the
        running app containers that must restart because their network namespace is gone)."""
        running = [c for c in self.infra if c.running]
        if running:
            keep = running[-1]
            for extra in running[:-1]:
                self._kill(extra, DUPLICATE.format(INFRA), remove=True)
            self._remove_dead([c for c in self.infra if not c.running])
            return keep.id, self._stale(keep)
        live = set()
        for name in sorted(self.apps):
            *older, newest = self.apps[name]
            for duplicate in (c for c in older if c.running):
                self._kill(duplicate, DUPLICATE.format(name), remove=True)
            if newest.running:
                self._kill(newest, SANDBOX_CHANGED)
                live.add(name)
        self._remove_dead(self.infra)
        if self.policy == "Never" and self.apps:
            return None, set()  # a new network would restart containers that must not restart
        attempt = self.infra[-1].attempt + 1 if self.infra else 0
        self.out.append(StartInfra(self.uid, self.pod, attempt=attempt))
        return kspec.docker_name(self.pod, INFRA, attempt), live

    def _stale(self, infra: ObservedContainer) -> set[str]:
        """Running app containers started before the infra container's current run: they sit in
        a network namespace that died with its previous run (a `docker restart` of it)."""
        stale = set()
        for name, attempts in self.apps.items():
            newest = attempts[-1]
            if (newest.running and newest.started and infra.started
                    and newest.started < infra.started):
                stale.add(name)
        for name in sorted(stale):
            self._kill(self.apps[name][-1], SANDBOX_CHANGED)
        return stale

    def _container(self, spec: dict, infra_ref: str, rejoin: set[str]) -> None:
        name = spec["name"]
        attempts = self.apps.get(name, [])
        newest = attempts[-1] if attempts else None
        for older in attempts[:-1]:
            if older.running:
                self._kill(older, DUPLICATE.format(name), remove=True)
        start = self._decide(spec, newest, name in rejoin)
        if start is not None:
            self._pull_and_start(spec, infra_ref, start)
        kept = 1 if start is not None else 2  # the newest attempt and the one before it
        self._remove_dead(attempts[:-kept])

    def _decide(self, spec: dict, newest: ObservedContainer | None, rejoin: bool) -> _Start | None:
        if newest is None:
            return _Start(0, 0.0)
        changed = newest.spec_hash != kspec.spec_hash(self.pod, spec["name"])
        if rejoin:  # killed above for its network: back at once, its backoff unchanged
            return _Start(newest.attempt + 1, 0.0 if changed else attempt_backoff(newest))
        if newest.running:
            if not changed:
                return None
            self._kill(newest, CHANGED.format(spec["name"]))
            return _Start(newest.attempt + 1, 0.0)
        if not should_restart(self.policy, effective_exit_code(newest)):
            return None
        if changed:  # a new definition is not the crash loop of the old one
            return _Start(newest.attempt + 1, 0.0)
        until, backoff = restart_backoff(newest, self.now)
        if until is not None:
            self.out.append(WaitBackoff(self.uid, spec["name"], until))
            return None
        return _Start(newest.attempt + 1, backoff)

    def _pull_and_start(self, spec: dict, infra_ref: str, start: _Start) -> None:
        image, name = spec["image"], spec["name"]
        if not image_present(image, self.images):
            if spec.get("imagePullPolicy") == "Never":
                return  # ErrImageNeverPull: the status says so
            problem = self.problems.get((self.uid, name))
            if problem is not None and self.now < _retry_at(problem):
                return  # ImagePullBackOff
            self.out.append(PullImage(self.uid, image, name))
        self.out.append(StartContainer(self.uid, self.pod, name, start.attempt, infra_ref,
                                            backoff=start.backoff))

    def _stray_containers(self) -> None:
        """Containers of a name the pod's spec no longer has."""
        names = {c["name"] for c in self.pod["spec"].get("containers") or []}
        for name in sorted(set(self.apps) - names):
            for container in self.apps[name]:
                if container.running:
                    self._kill(container, STOPPING.format(name), remove=True)
            self._remove_dead(self.apps[name])


def _retry_at(problem: ImageProblem) -> datetime:
    if problem.retry_at is not None:
        return problem.retry_at
    return problem.since + timedelta(seconds=BACKOFF_START)
