"""Observe a minion: every Bosun container and the images there, in one round-trip a pass.

The sparse container list (one Docker call) carries ids, labels, states and the pod IP; what it
lacks (start and finish times, exit codes) comes from inspect, done once per container and state
and then cached, so a steady minion costs one list call (plus one images call) per pass.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime

from bosun.kubelet.model import (
    LABEL_ATTEMPT,
    LABEL_BACKOFF,
    LABEL_CONTAINER,
    LABEL_GRACE,
    LABEL_HASH,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    Observed,
    ObservedContainer,
)
from bosun.minion import Minion
from bosun.minion.errors import DockerNotFound

_NANOS = re.compile(r"(\.\d{6})\d+")
IMAGES_TTL = 30.0  # images change only by pulls and pushes, which forget the cache themselves


def parse_docker_time(text: str | None) -> datetime | None:
    """Docker's RFC 3339 with nanoseconds -> an aware datetime; None for Docker's zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(_NANOS.sub(r"\1", text).replace("Z", "+00:00"))


class Observer:
    """Reads one minion; keeps the inspect cache between passes."""

    def __init__(self, minion: Minion) -> None:
        self.minion = minion
        self._details: dict[tuple[str, str], dict] = {}
        self._image_cache: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def observe(self) -> Observed:
        """Raises MinionUnreachable, DockerAPIError."""
        listed = self.minion.containers({LABEL_POD_UID: None})
        images = self._images()
        seen, found = set(), []
        for entry in listed:
            key = (entry["Id"], entry.get("State", ""))
            seen.add(key)
            details = self._inspect(key)
            if details is not None:
                found.append(to_observed(entry, details))
        with self._lock:
            for stale in set(self._details) - seen:
                del self._details[stale]
        return Observed(self.minion.name, tuple(found), images)

    def _images(self) -> frozenset[str]:
        now = time.monotonic()
        if self._image_cache is None or now - self._image_cache[0] > IMAGES_TTL:
            self._image_cache = (now, self.minion.images())
        return self._image_cache[1]

    def forget_images(self) -> None:
        """The minion's images changed (a pull, a push): read them again next pass."""
        self._image_cache = None

    def _inspect(self, key: tuple[str, str]) -> dict | None:
        with self._lock:
            cached = self._details.get(key)
        if cached is not None:
            return cached
        try:
            details = self.minion.inspect(key[0])
        except DockerNotFound:
            return None  # removed between the list and the inspect
        with self._lock:
            self._details[key] = details
        return details

    def forget(self, container_id: str) -> None:
        """Drop what is cached for a container (after acting on it)."""
        with self._lock:
            for key in [k for k in self._details if k[0] == container_id]:
                del self._details[key]


def to_observed(entry: dict, details: dict) -> ObservedContainer:
    """One container from its sparse-list entry and its inspect answer."""
    labels = entry.get("Labels") or {}
    state = details.get("State") or {}
    networks = ((entry.get("NetworkSettings") or {}).get("Networks") or {})
    ip = next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")
    reason = "OOMKilled" if state.get("OOMKilled") else (state.get("Error") or "")
    running = entry.get("State") in ("running", "restarting", "paused")
    return ObservedContainer(
        id=entry["Id"],
        name=(entry.get("Names") or ["/"])[0].lstrip("/"),
        pod_uid=labels.get(LABEL_POD_UID, ""),
        pod_name=labels.get(LABEL_POD_NAME, ""),
        pod_namespace=labels.get(LABEL_POD_NAMESPACE, ""),
        container=labels.get(LABEL_CONTAINER, ""),
        spec_hash=labels.get(LABEL_HASH, ""),
        attempt=_int(labels.get(LABEL_ATTEMPT)),
        image=entry.get("Image", ""),
        image_id=entry.get("ImageID", ""),
        state=entry.get("State", ""),
        created=datetime.fromtimestamp(entry.get("Created", 0), UTC),
        started=parse_docker_time(state.get("StartedAt")),
        finished=None if running else parse_docker_time(state.get("FinishedAt")),
        exit_code=None if running else state.get("ExitCode"),
        reason=reason,
        ip=ip,
        grace=_float(labels.get(LABEL_GRACE)),
        backoff=_float(labels.get(LABEL_BACKOFF)),
    )


def _float(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
