"""Carry out the kubelet's plan on one minion, over its kept-open Docker channel.

Actions run in the order the plan gave them. A failed action of one pod skips that pod's later
actions (its containers cannot join an infra container that failed to start) and is reported as
an event; a lost connection stops the whole pass, since every later action would fail the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bosun.errors import BosunError, TemporaryError
from bosun.events import EventRecorder
from bosun.kubelet import spec
from bosun.kubelet.model import (
    Action,
    ImageProblem,
    KillContainer,
    Observed,
    PullImage,
    RemoveContainer,
    RemovePodFiles,
    StartContainer,
    StartInfra,
    WaitBackoff,
)
from bosun.kubelet.observe import Observer
from bosun.minion import Minion
from bosun.minion import containers as docker_ops
from bosun.minion.errors import DockerNotFound

log = logging.getLogger(__name__)

POD_FILES = "/var/lib/bosun/pods"
TEARDOWN_WORKERS = 8
_UID = re.compile(r"^[0-9a-f-]{8,64}$")


class MinionState:
    """What the kubelet remembers about one minion between passes (all of it rebuildable)."""

    def __init__(self) -> None:
        self.image_problems: dict[tuple[str, str], ImageProblem] = {}
        self.backoffs: dict[tuple[str, str], datetime] = {}
        self.started_infra: dict[str, str] = {}  # pod uid -> infra id started this pass


class Executor:
    def __init__(self, minion: Minion, observer: Observer, recorder: EventRecorder,
                 services: Callable[[str], list[dict]], state: MinionState,
                 clock: Callable[[], datetime]) -> None:
        self.minion = minion
        self.observer = observer
        self.recorder = recorder
        self.services = services  # namespace -> its services, for the service env vars
        self.state = state
        self.clock = clock
        self.done: Callable[[], None] = lambda: None  # called when a background job ends
        self._background = ThreadPoolExecutor(TEARDOWN_WORKERS,
                                              thread_name_prefix=f"teardown-{minion.name}")
        self._jobs: set[str] = set()
        self._jobs_lock = threading.Lock()

    def run(self, actions: list[Action], pods: dict[str, dict], observed: Observed) -> int:
        """Do the actions; returns how many failed. Raises TemporaryError if the minion went
        away (the rest of the pass is pointless).

        Tearing down a pod that is gone (stop with its grace period, remove, delete its files)
        runs in the background, one job per pod: a container that ignores SIGTERM must not hold
        up every other pod of the minion for its grace period.
        """
        teardown: dict[str, list[Action]] = {}
        for action in actions:
            if action.pod_uid not in pods:
                teardown.setdefault(action.pod_uid, []).append(action)
        for uid, steps in teardown.items():
            self._tear_down_later(uid, steps, observed)
        failed_pods: set[str] = set()
        failures = 0
        self.state.started_infra.clear()
        for action in (a for a in actions if a.pod_uid in pods):
            if action.pod_uid in failed_pods:
                continue
            try:
                self._do(action, pods.get(action.pod_uid), observed)
            except TemporaryError:
                raise
            except BosunError as error:
                failures += 1
                failed_pods.add(action.pod_uid)
                pod = pods.get(action.pod_uid)
                log.warning("%s: %s failed: %s", self.minion.name, type(action).__name__, error)
                if pod is not None and not isinstance(error, _Handled):
                    self.recorder.warning(pod, "Failed", str(error))
        return failures

    def _tear_down_later(self, uid: str, steps: list[Action], observed: Observed) -> None:
        with self._jobs_lock:
            if uid in self._jobs:
                return  # already on its way out
            self._jobs.add(uid)

        def job() -> None:
            try:
                for step in steps:
                    self._do(step, None, observed)
            except BosunError as error:
                log.warning("%s: tearing down pod %s: %s", self.minion.name, uid, error)
            finally:
                with self._jobs_lock:
                    self._jobs.discard(uid)
                self.done()

        self._background.submit(job)

    def close(self, wait: bool = False) -> None:
        """Stop taking jobs; with wait, let the running teardowns finish first."""
        self._background.shutdown(wait=wait, cancel_futures=not wait)

    def _do(self, action: Action, pod: dict | None, observed: Observed) -> None:
        handler = {
            StartInfra: self._start_infra, PullImage: self._pull, StartContainer: self._start,
            KillContainer: self._kill, RemoveContainer: self._remove,
            RemovePodFiles: self._remove_files, WaitBackoff: self._backoff,
        }[type(action)]
        handler(action, pod, observed)

    # -- the actions ---------------------------------------------------------------------------
    def _start_infra(self, action: StartInfra, pod: dict | None, observed: Observed) -> None:
        create = spec.infra_create(action.pod, attempt=action.attempt)
        container_id = docker_ops.create(self.minion.docker, **dataclasses.asdict(create))
        docker_ops.start(self.minion.docker, container_id)
        self.state.started_infra[action.pod_uid] = container_id

    def _pull(self, action: PullImage, pod: dict | None, observed: Observed) -> None:
        key = (action.pod_uid, action.container)
        previous = self.state.image_problems.get(key)
        try:
            if pod is not None:
                self.recorder.normal(pod, "Pulling", f'Pulling image "{action.image}"',
                                     _field(action.container))
            docker_ops.pull(self.minion.docker, action.image)
        except BosunError as error:
            reason = "ImagePullBackOff" if previous else "ErrImagePull"
            message = (f'Failed to pull image "{action.image}": {error}; no registry '
                       f"answered: ship it with `orchestrator.py image push {action.image}`")
            self.state.image_problems[key] = ImageProblem(reason, message, self.clock())
            if pod is not None:
                self.recorder.warning(pod, "Failed", message, _field(action.container))
            raise _Handled() from error
        self.state.image_problems.pop(key, None)
        self.observer.forget_images()
        if pod is not None:
            self.recorder.normal(pod, "Pulled", f'Successfully pulled image "{action.image}"',
                                 _field(action.container))

    def _start(self, action: StartContainer, pod: dict | None, observed: Observed) -> None:
        infra_id = self.state.started_infra.get(action.pod_uid, action.infra_id)
        pod_ip = _pod_ip(observed, infra_id) or self._infra_ip(infra_id)
        namespace = action.pod["metadata"]["namespace"]
        create = spec.container_create(action.pod, action.container, action.attempt, infra_id,
                                       self.services(namespace), self.minion.name,
                                       pod_ip=pod_ip, host_ip=self.minion.address.host,
                                       backoff=action.backoff)
        where = _field(action.container)
        try:
            container_id = docker_ops.create(self.minion.docker, **dataclasses.asdict(create))
        except DockerNotFound as error:
            message = (f'image "{create.image}" is not on {self.minion.name}: '
                       f"ship it with `orchestrator.py image push {create.image}`")
            self.state.image_problems[(action.pod_uid, action.container)] = ImageProblem(
                "ErrImagePull", message, self.clock())
            self.recorder.warning(action.pod, "Failed", message, where)
            raise _Handled() from error
        self.state.image_problems.pop((action.pod_uid, action.container), None)
        self.state.backoffs.pop((action.pod_uid, action.container), None)
        self.recorder.normal(action.pod, "Created", f"Created container {action.container}",
                             where)
        docker_ops.start(self.minion.docker, container_id)
        self.recorder.normal(action.pod, "Started", f"Started container {action.container}",
                             where)

    def _kill(self, action: KillContainer, pod: dict | None, observed: Observed) -> None:
        if pod is not None and action.container:
            self.recorder.normal(pod, "Killing", f"Stopping container {action.container}: "
                                 f"{action.reason}", _field(action.container))
        try:
            docker_ops.stop(self.minion.docker, action.container_id, action.grace)
            if action.remove:
                docker_ops.remove(self.minion.docker, action.container_id)
        except DockerNotFound:
            pass  # already gone: what the action wanted
        self.observer.forget(action.container_id)

    def _remove(self, action: RemoveContainer, pod: dict | None, observed: Observed) -> None:
        try:
            docker_ops.remove(self.minion.docker, action.container_id)
        except DockerNotFound:
            pass
        self.observer.forget(action.container_id)

    def _remove_files(self, action: RemovePodFiles, pod: dict | None,
                      observed: Observed) -> None:
        if not _UID.match(action.pod_uid):
            raise BosunError(f"refusing to remove files of a pod uid that is not a uid: "
                             f"{action.pod_uid!r}")
        self.minion.check(["rm", "-rf", "--", f"{POD_FILES}/{action.pod_uid}"])

    def _backoff(self, action: WaitBackoff, pod: dict | None, observed: Observed) -> None:
        key = (action.pod_uid, action.container)
        first = key not in self.state.backoffs
        self.state.backoffs[key] = action.until
        if pod is not None and first:
            self.recorder.warning(pod, "BackOff", f"Back-off restarting failed container "
                                  f"{action.container} in pod {pod['metadata']['name']}_"
                                  f"{pod['metadata']['namespace']}({action.pod_uid})",
                                  _field(action.container))

    def _infra_ip(self, infra_id: str) -> str:
        details = docker_ops.inspect(self.minion.docker, infra_id)
        networks = (details.get("NetworkSettings") or {}).get("Networks") or {}
        return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")


class _Handled(BosunError):
    """An action failed and already said why in an event."""


def _field(container: str) -> str:
    return f"spec.containers{{{container}}}" if container else ""


def _pod_ip(observed: Observed, infra_id: str) -> str:
    return next((c.ip for c in observed.containers if c.id == infra_id), "")
