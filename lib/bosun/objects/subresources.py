"""Objects seen through subresources: the autoscaling/v1 Scale of a replication controller, and
a Binding that assigns a pod to a node.

The API reads and writes the stored object; these functions only derive one shape from the
other, raising the Conflict Kubernetes answers when the write no longer applies.
"""

from __future__ import annotations

import copy
from datetime import datetime

from bosun.objects.meta import format_time
from bosun.objects.status import Conflict


def selector_string(selector: object) -> str:
    """An equality selector as Kubernetes prints it: `app=web,tier=fe` (keys sorted)."""
    if not isinstance(selector, dict):
        return ""
    return ",".join(f"{key}={selector[key]}" for key in sorted(selector))


def scale_of(rc: dict) -> dict:
    """The Scale of a stored replication controller (what GET .../NAME/scale answers)."""
    meta, spec = rc.get("metadata") or {}, rc.get("spec") or {}
    scale_meta = {key: meta[key] for key in
                  ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                  if key in meta}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scale_meta,
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": (rc.get("status") or {}).get("replicas", 0),
                       "selector": selector_string(spec.get("selector"))}}


def apply_scale(rc: dict, scale: dict) -> dict:
    """A copy of `rc` with the replicas a validated Scale asks for.

    Raises Conflict when the Scale names another uid or an older resourceVersion.
    """
    meta, scale_meta = rc.get("metadata") or {}, scale.get("metadata") or {}
    name = str(meta.get("name", ""))
    uid = scale_meta.get("uid")
    if uid and uid != meta.get("uid"):
        raise Conflict("replicationcontrollers", name,
                       f"Precondition failed: UID in precondition: {uid}, "
                       f"UID in object meta: {meta.get('uid', '')}")
    version = scale_meta.get("resourceVersion")
    if version and version != meta.get("resourceVersion"):
        raise Conflict("replicationcontrollers", name)
    out = copy.deepcopy(rc)
    out.setdefault("spec", {})["replicas"] = (scale.get("spec") or {}).get("replicas", 0)
    return out


def apply_binding(pod: dict, binding: dict, now: datetime) -> dict:
    """A copy of `pod` assigned to the node a Binding names, marked PodScheduled.

    Raises Conflict when the pod is already on a node, is being deleted, or the Binding names
    another uid.
    """
    meta = pod.get("metadata") or {}
    name = str(meta.get("name", ""))
    node = ((binding.get("target") or {}).get("name")) or ""
    uid = (binding.get("metadata") or {}).get("uid")
    assigned = (pod.get("spec") or {}).get("nodeName")
    why = None
    if meta.get("deletionTimestamp"):
        why = f"pod {name} is being deleted, cannot be assigned to a host"
    elif assigned:
        why = f'pod {name} is already assigned to node "{assigned}"'
    elif uid and uid != meta.get("uid"):
        why = (f"Precondition failed: UID in precondition: {uid}, "
               f"UID in object meta: {meta.get('uid', '')}")
    if why:
        raise Conflict("pods/binding", name, why)
    out = copy.deepcopy(pod)
    out.setdefault("spec", {})["nodeName"] = node
    annotations = (binding.get("metadata") or {}).get("annotations") or {}
    if annotations:
        out.setdefault("metadata", {}).setdefault("annotations", {}).update(annotations)
    conditions = [c for c in out.setdefault("status", {}).get("conditions") or []
                  if c.get("type") != "PodScheduled"]
    conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": format_time(now)})
    out["status"]["conditions"] = conditions
    return out
