"""What the controller plans share: the Event an action asks for, and how to read pods.

Pure helpers over v1 objects as the API stores them (dicts), after Kubernetes' podutil: a pod is
terminal when Succeeded or Failed, active when neither terminal nor being deleted, ready when its
Ready condition is True. Timestamps are RFC 3339 strings; a missing or malformed one reads as None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NORMAL = "Normal"
WARNING = "Warning"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})

Obj = Mapping[str, Any]

_FRACTION = re.compile(r"\.(\d{1,6})\d*")


@dataclass(frozen=True)
class Event:
    """An Event the loop should record: `about` is the involved object (RC, Pod, Node)."""

    about: Obj
    type: str
    reason: str
    message: str


def meta(obj: Obj | None) -> Obj:
    return (obj or {}).get("metadata") or {}


def name_of(obj: Obj | None) -> str:
    return meta(obj).get("name") or ""


def uid_of(obj: Obj | None) -> str:
    return meta(obj).get("uid") or ""


def key_of(obj: Obj) -> tuple[str, str, str]:
    """A sort key that orders objects by namespace, name, then uid."""
    m = meta(obj)
    return (m.get("namespace") or "", m.get("name") or "", m.get("uid") or "")


def parse_time(text: object) -> datetime | None:
    """An RFC 3339 timestamp (`2025-03-01T12:00:00Z`, fractions allowed) as an aware datetime."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r".\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def condition(obj: Obj, kind: str) -> Obj | None:
    """The status condition of type `kind`, or None."""
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def is_deleting(obj: Obj) -> bool:
    return meta(obj).get("deletionTimestamp") is not None


def is_active(pod: Obj) -> bool:
    """Kubernetes' IsPodActive: neither finished nor being deleted."""
    return not is_terminal(pod) and not is_deleting(pod)


def is_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Obj) -> datetime | None:
    """When a ready pod last turned ready (its Ready condition's lastTransitionTime)."""
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime"))


def controller_ref(obj: Obj) -> Obj | None:
    """The ownerReference marked `controller: true`, or None (an orphan)."""
    for ref in meta(obj).get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            return ref
    return None


def node_name_of(pod: Obj) -> str:
    return (pod.get("spec") or {}).get("nodeName") or ""
