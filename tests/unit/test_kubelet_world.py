"""Builders of the pods and observed containers the kubelet tests use, and a simulated minion.

Shared by the tests/unit/test_kubelet_*.py modules; holds no tests itself. Pods come out as the
API stores them (server defaults applied); observed containers carry what the observer reads
from Docker's labels, states and inspect answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bosun.kubelet import spec as kspec
from bosun.kubelet.model import (
    INFRA,
    LABEL_ATTEMPT,
    LABEL_BACKOFF,
    LABEL_CONTAINER,
    LABEL_GRACE,
    LABEL_HASH,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
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
from bosun.kubelet.plan import image_present
from bosun.objects.defaults import apply_defaults

NODE = "minion-1"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
IMAGE = "nginx:1.27"
IMAGES = frozenset({IMAGE, "redis:7", "busybox:latest", "sha256:" + "ab" * 32})


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def uid_of(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def container(name: str = "web", image: str = IMAGE, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def pod(name: str = "web", containers: Iterable[dict] | None = None, *,
        restart: str = "Always", node: str = NODE, namespace: str = "default",
        phase: str | None = None, deleting: bool = False, grace: int | None = None,
        uid: str | None = None, status: dict | None = None, **spec: Any) -> dict[str, Any]:
    """A pod bound to `node`, defaulted as the API stores it."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid or uid_of(name),
                            "creationTimestamp": "2025-03-01T11:00:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2025-03-01T12:00:30Z"
        meta["deletionGracePeriodSeconds"] = 5 if grace is None else grace
    body: dict[str, Any] = {"nodeName": node, "restartPolicy": restart,
                            "containers": list(containers or [container()]), **spec}
    if grace is not None and not deleting:
        body["terminationGracePeriodSeconds"] = grace
    obj = {"metadata": meta, "spec": body, "status": dict(status or {})}
    if phase is not None:
        obj["status"]["phase"] = phase
    return apply_defaults("pods", obj)


def short_id(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def infra(of: dict, attempt: int = 0, *, state: str = "running", ip: str = "172.17.0.2",
          started: datetime | None = None, exit_code: int | None = None) -> ObservedContainer:
    meta = of["metadata"]
    running = state == "running"
    return ObservedContainer(
        id=short_id(meta["uid"], INFRA, attempt), name=kspec.docker_name(of, INFRA, attempt),
        pod_uid=meta["uid"], pod_name=meta["name"], pod_namespace=meta["namespace"],
        container=INFRA, spec_hash=kspec.infra_hash(of), attempt=attempt,
        image=kspec.INFRA_IMAGE, image_id="sha256:" + "cd" * 32, state=state,
        created=ago(3600), started=started or ago(3600),
        finished=None if running else ago(60), exit_code=None if running else (exit_code or 137),
        ip=ip if running else "", grace=float(of["spec"]["terminationGracePeriodSeconds"]))


def app(of: dict, name: str = "web", attempt: int = 0, *, state: str = "running",
        exit_code: int | None = None, started: datetime | None = None,
        finished: datetime | None = None, spec_hash: str | None = None,
        backoff: float | None = 0.0, reason: str = "",
        grace: float | None = None) -> ObservedContainer:
    """An app container of `of`; a dead one exited 1 a minute ago after 10 s unless told."""
    meta = of["metadata"]
    running = state in ("running", "restarting", "paused")
    if not running and finished is None:
        finished = ago(60)
    if started is None:
        started = ago(1800) if running else (finished or NOW) - timedelta(seconds=10)
    image = next((c["image"] for c in of["spec"]["containers"] if c["name"] == name), IMAGE)
    return ObservedContainer(
        id=short_id(meta["uid"], name, attempt), name=kspec.docker_name(of, name, attempt),
        pod_uid=meta["uid"], pod_name=meta["name"], pod_namespace=meta["namespace"],
        container=name, spec_hash=spec_hash or kspec.spec_hash(of, name), attempt=attempt,
        image=image, image_id="sha256:" + "ef" * 32, state=state, created=started,
        started=None if state == "created" else started, finished=None if running else finished,
        exit_code=None if running else (1 if exit_code is None else exit_code), reason=reason,
        grace=float(of["spec"]["terminationGracePeriodSeconds"]) if grace is None else grace,
        backoff=backoff)


def world(*containers: ObservedContainer, images: frozenset[str] = IMAGES) -> Observed:
    return Observed(NODE, tuple(containers), images)


# -- a simulated minion ---------------------------------------------------------------------------

class Minion:
    """Applies actions to an Observed the way Docker would, with a clock that moves 1 s/action."""

    def __init__(self, observed: Observed, now: datetime = NOW) -> None:
        self.containers = {c.id: c for c in observed.containers}
        self.images = set(observed.images)
        self.now = now
        self.node = observed.node

    def observed(self) -> Observed:
        return Observed(self.node, tuple(self.containers.values()), frozenset(self.images))

    def apply(self, actions: Iterable[Any], pods: dict[str, dict]) -> None:
        started: dict[str, str] = {}
        for action in actions:
            self.now += timedelta(seconds=1)
            self._apply(action, pods, started)

    def _apply(self, action: Any, pods: dict[str, dict], started: dict[str, str]) -> None:
        if isinstance(action, StartInfra):
            started[action.pod_uid] = self._run(kspec.infra_create(action.pod,
                                                                   attempt=action.attempt))
        elif isinstance(action, StartContainer):
            infra_id = started.get(action.pod_uid, action.infra_id)
            assert infra_id in self.containers and self.containers[infra_id].running, action
            image = kspec.container_spec(action.pod, action.container)["image"]
            assert image_present(image, frozenset(self.images)), action
            self._run(kspec.container_create(action.pod, action.container, action.attempt,
                                             infra_id, [], self.node, backoff=action.backoff))
        elif isinstance(action, PullImage):
            self.images.add(action.image)
        elif isinstance(action, KillContainer):
            self._stop(action.container_id, action.remove)
        elif isinstance(action, RemoveContainer):
            assert not self.containers[action.container_id].running, action
            del self.containers[action.container_id]
        elif isinstance(action, RemovePodFiles):
            assert not any(c.pod_uid == action.pod_uid for c in self.containers.values())
        else:
            assert isinstance(action, WaitBackoff), action

    def _run(self, made: kspec.ContainerCreate) -> str:
        """Create and start `made`; it is seen again only through its labels, as the observer
        sees it."""
        assert made.name not in {c.name for c in self.containers.values()}, made.name
        labels = made.labels
        name = labels[LABEL_CONTAINER]
        new = ObservedContainer(
            id=short_id(made.name, self.now), name=made.name, pod_uid=labels[LABEL_POD_UID],
            pod_name=labels[LABEL_POD_NAME], pod_namespace=labels[LABEL_POD_NAMESPACE],
            container=name, spec_hash=labels[LABEL_HASH], attempt=int(labels[LABEL_ATTEMPT]),
            image=made.image, image_id="sha256:" + "ef" * 32, state="running",
            created=self.now, started=self.now, ip="172.17.0.9" if name == INFRA else "",
            grace=float(labels[LABEL_GRACE]),
            backoff=float(labels[LABEL_BACKOFF]) if LABEL_BACKOFF in labels else None)
        self.containers[new.id] = new
        return new.id

    def _stop(self, container_id: str, remove: bool) -> None:
        if remove:
            del self.containers[container_id]
            return
        old = self.containers[container_id]
        self.containers[container_id] = dataclasses.replace(
            old, state="exited", finished=self.now, exit_code=137, ip="")
