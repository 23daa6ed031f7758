"""The kubelet's vocabulary: what it observes on a minion and the actions its plan returns.

Observe -> plan -> act: `observe` (bosun.kubelet.observe, over bosun.minion) turns Docker's
answers into `Observed`; `plan` (pure) compares it with the pods bound to the minion and returns
`Action`s; the executor carries them out over the minion's kept-open Docker channel. Everything a
container needs to be recognised again is in its labels, so a restarted controller rebuilds the
whole picture from the minion alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Labels on every container Bosun makes. The infra container's container name is INFRA.
LABEL_POD_UID = "io.bosun.pod.uid"
LABEL_POD_NAME = "io.bosun.pod.name"
LABEL_POD_NAMESPACE = "io.bosun.pod.namespace"
LABEL_CONTAINER = "io.bosun.container.name"
LABEL_HASH = "io.bosun.container.hash"  # hash of the container's spec: a changed spec restarts
LABEL_ATTEMPT = "io.bosun.container.attempt"  # 0 for the first start, +1 per restart
LABEL_GRACE = "io.bosun.pod.grace-seconds"  # terminationGracePeriodSeconds when it started
# Restart backoff (seconds) this attempt started with: the next crash waits this long, so the
# 10 s, 20 s, 40 s ... sequence survives a controller restart.
LABEL_BACKOFF = "io.bosun.container.backoff"
INFRA = "POD"

# Backoff of restarts, as the kubelet does it: 10 s doubling to 5 min, forgotten after a
# container ran this long.
BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET_AFTER = 600.0


@dataclass(frozen=True)
class ObservedContainer:
    """One Bosun container on a minion, from the sparse list plus (for exited ones) inspect."""

    id: str
    name: str  # Docker's name, without the leading slash
    pod_uid: str
    pod_name: str
    pod_namespace: str
    container: str  # the pod's container name, or INFRA
    spec_hash: str
    attempt: int
    image: str  # as asked for (the container's Image)
    image_id: str  # sha256:...
    state: str  # Docker's: created, running, paused, restarting, removing, exited, dead
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    exit_code: int | None = None
    reason: str = ""  # Docker's State.Error or "OOMKilled"
    ip: str = ""  # the infra container's pod IP
    grace: float | None = None  # LABEL_GRACE; None: no label (30 s, Kubernetes' default)
    backoff: float | None = None  # LABEL_BACKOFF; None: no label (derived from the attempt)

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")


@dataclass(frozen=True)
class Observed:
    """A minion's Bosun containers and the images it holds, read in one pass."""

    node: str
    containers: tuple[ObservedContainer, ...]
    images: frozenset[str]  # every repo:tag and image id the minion has


@dataclass(frozen=True)
class ImageProblem:
    """Why a container could not start for want of its image (ErrImagePull and friends)."""

    reason: str  # ErrImagePull, ImagePullBackOff, ErrImageNeverPull
    message: str
    since: datetime
    retry_at: datetime | None = None  # no new pull before this; None: `since` + BACKOFF_START


# -- actions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    pod_uid: str


@dataclass(frozen=True)
class StartInfra(Action):
    """Create and start the pod's infra container: it holds the network namespace (pod IP)."""

    pod: dict = field(hash=False, compare=False)
    attempt: int = 0  # one more than the newest infra container's: a new Docker name


@dataclass(frozen=True)
class PullImage(Action):
    image: str
    container: str


@dataclass(frozen=True)
class StartContainer(Action):
    """Create and start one of the pod's containers joined to the infra container."""

    pod: dict = field(hash=False, compare=False)
    container: str
    attempt: int
    infra_id: str  # the running infra's id, or the Docker name of one StartInfra just made
    backoff: float = 0.0  # goes to LABEL_BACKOFF (spec.container_create's `backoff`)


@dataclass(frozen=True)
class KillContainer(Action):
    """Stop a container: SIGTERM, SIGKILL after `grace` seconds. `remove` drops it too."""

    container_id: str
    container: str
    grace: float
    reason: str  # Killing event message: why
    remove: bool = True


@dataclass(frozen=True)
class RemoveContainer(Action):
    """Delete an exited container Bosun no longer needs (older attempts, orphans)."""

    container_id: str


@dataclass(frozen=True)
class RemovePodFiles(Action):
    """Delete the pod's emptyDir folders on the minion once all its containers are gone."""


@dataclass(frozen=True)
class WaitBackoff(Action):
    """A dead container whose restart waits: next try at `until` (CrashLoopBackOff)."""

    container: str
    until: datetime
