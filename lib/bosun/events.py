"""Events for every decision, deduplicated with counts as Kubernetes does.

A recorder belongs to one component (kubelet on minion-2, scheduler, replication manager). The
same (object, type, reason, message) seen again bumps `count` and `lastTimestamp` of the one
Event instead of making another, so `kubectl describe` shows `x5 over 2m`. Recording never
raises: an event that cannot be written is logged and dropped, never worth failing a sync for.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from bosun.objects.meta import format_time

log = logging.getLogger(__name__)

CACHE_SIZE = 4096


def reference(obj: dict) -> dict:
    """An ObjectReference to a stored object (the event's involvedObject)."""
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", "v1"),
           "name": meta.get("name", ""), "uid": meta.get("uid", ""),
           "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


class EventRecorder:
    """Writes Events through `create(namespace, event)` and `update(namespace, name, event)`
    (the in-process API); remembers recent ones to count repeats."""

    def __init__(self, component: str, host: str, create: Callable[[str, dict], dict],
                 update: Callable[[str, str, dict], dict],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.component = component
        self.host = host
        self._create = create
        self._update = update
        self._clock = clock
        self._recent: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def normal(self, obj: dict, reason: str, message: str, field_path: str = "") -> None:
        self.record(obj, "Normal", reason, message, field_path)

    def warning(self, obj: dict, reason: str, message: str, field_path: str = "") -> None:
        self.record(obj, "Warning", reason, message, field_path)

    def record(self, obj: dict, type_: str, reason: str, message: str,
               field_path: str = "") -> None:
        involved = reference(obj)
        if field_path:
            involved["fieldPath"] = field_path
        namespace = involved.get("namespace") or "default"
        key = (involved["uid"], involved.get("fieldPath", ""), type_, reason, message)
        now = format_time(self._clock())
        try:
            with self._lock:
                previous = self._recent.get(key)
            if previous is not None:
                event = {**previous, "count": previous.get("count", 1) + 1, "lastTimestamp": now}
                stored = self._update(namespace, previous["metadata"]["name"], event)
            else:
                stored = self._create(namespace, self._new(involved, type_, reason, message, now))
        except Exception as error:  # events are best effort (see above)
            log.warning("event %s %s for %s/%s not recorded: %s", type_, reason, namespace,
                        involved["name"], error)
            with self._lock:
                self._recent.pop(key, None)  # start a fresh Event next time
            return
        with self._lock:
            self._recent[key] = stored
            self._recent.move_to_end(key)
            while len(self._recent) > CACHE_SIZE:
                self._recent.popitem(last=False)

    def _new(self, involved: dict, type_: str, reason: str, message: str, now: str) -> dict:
        name = f"{involved['name']}.{uuid.uuid4().hex[:16]}"
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": involved.get("namespace") or "default"},
            "involvedObject": involved, "reason": reason, "message": message, "type": type_,
            "source": {"component": self.component, "host": self.host},
            "reportingComponent": self.component, "reportingInstance": self.host,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
