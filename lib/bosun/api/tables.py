"""Server-side printing: API objects as `meta.k8s.io/v1` Tables, as kube-apiserver 1.32 prints them.

kubectl asks for a Table on every human-readable `get` and `get -w`; the HTTP layer answers a list,
a single object or one watch event with `table(...)`. Columns and cells follow Kubernetes' printers
(all columns, wide ones at priority 1), so `kubectl get` reads exactly as against a real cluster.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bosun.errors import PermanentError
from bosun.objects.selectors import selector_to_string

__all__ = ["INCLUDE_METADATA", "INCLUDE_NONE", "INCLUDE_OBJECT", "InvalidTableRequest",
           "columns", "format_endpoints", "human_duration", "since", "table"]

INCLUDE_OBJECT, INCLUDE_METADATA, INCLUDE_NONE = "Object", "Metadata", "None"
_TABLE_API_VERSION = "meta.k8s.io/v1"


class InvalidTableRequest(PermanentError):
    """A Table request Kubernetes answers with 400 BadRequest (an unknown includeObject)."""


# -- ages ------------------------------------------------------------------------------------------

def human_duration(delta: timedelta) -> str:
    """Kubernetes' HumanDuration: `45s`, `5m20s`, `42m`, `5h3m`, `30h`, `3d4h`, `200d`, `2y5d`."""
    micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    seconds = abs(micros) // 10**6 * (1 if micros >= 0 else -1)  # Go truncates toward zero
    if seconds < -1:
        return "<invalid>"  # a clock more than a second ahead of ours
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24 % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (or datetime) as an aware datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        # Since Python 3.11 this reads any fraction (to microseconds) and a trailing Z.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def since(value: Any, now: datetime) -> str:
    """How long ago `value` was, as kubectl prints ages; `<unknown>` without a timestamp."""
    stamp = _timestamp(value)
    if stamp is None:
        return "<unknown>"
    return human_duration(_aware(now) - stamp)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _labels(selector: Mapping[str, str] | None) -> str:
    return selector_to_string(selector or {}) or "<none>"


# -- columns ---------------------------------------------------------------------------------------

def _column(name: str, description: str, kind: str = "string", *, priority: int = 0,
            format_: str = "") -> dict:
    return {"name": name, "type": kind, "format": format_, "description": description,
            "priority": priority}


def _name_column(priority: int = 0) -> dict:
    return _column("Name", "Name must be unique within a namespace.", priority=priority,
                   format_="name")


_AGE = _column("Age", "CreationTimestamp is the server time when this object was created.")
_CONTAINERS = _column("Containers", "Names of each container in the template.", priority=1)
_IMAGES = _column("Images", "Images referenced by each container in the template.", priority=1)

_POD_COLUMNS = (
    _name_column(),
    _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    _column("Status", "The aggregate status of the containers in this pod."),
    _column("Restarts", "The number of times the containers in this pod have been restarted "
                        "and when the last container in this pod has restarted."),
    _AGE,
    _column("IP", "IP address allocated to the pod.", priority=1),
    _column("Node", "The node this pod is bound to.", priority=1),
    _column("Nominated Node", "The node the scheduler nominated for this pod.", priority=1),
    _column("Readiness Gates", "Pod conditions evaluated for pod readiness.", priority=1),
)
_SERVICE_COLUMNS = (
    _name_column(),
    _column("Type", "How the Service is exposed."),
    _column("Cluster-IP", "The IP address of the service, usually assigned by the master."),
    _column("External-IP", "IP addresses outside the cluster that route to this service."),
    _column("Port(s)", "The list of ports that are exposed by this service."),
    _AGE,
    _column("Selector", "Route service traffic to pods with labels matching this selector.",
            priority=1),
)
_RC_COLUMNS = (
    _name_column(),
    _column("Desired", "Replicas is the number of desired replicas.", "integer"),
    _column("Current", "Replicas is the most recently observed number of replicas.", "integer"),
    _column("Ready", "The number of ready replicas for this replication controller.", "integer"),
    _AGE,
    _CONTAINERS,
    _IMAGES,
    _column("Selector", "Label keys and values that pods must match to be controlled by this "
                        "replication controller.", priority=1),
)
_NODE_COLUMNS = (
    _name_column(),
    _column("Status", "The status of the node"),
    _column("Roles", "The roles of the node"),
    _AGE,
    _column("Version", "Kubelet Version reported by the node."),
    _column("Internal-IP", "List of addresses reachable to the node.", priority=1),
    _column("External-IP", "List of addresses reachable to the node.", priority=1),
    _column("OS-Image", "OS Image reported by the node.", priority=1),
    _column("Kernel-Version", "Kernel Version reported by the node.", priority=1),
    _column("Container-Runtime", "ContainerRuntime Version reported by the node.", priority=1),
)
_ENDPOINTS_COLUMNS = (
    _name_column(),
    _column("Endpoints", "The set of all endpoints is the union of all subsets."),
    _AGE,
)
_NAMESPACE_COLUMNS = (
    _name_column(),
    _column("Status", "The status of the namespace"),
    _AGE,
)
_EVENT_COLUMNS = (
    _column("Last Seen", "The time at which the most recent occurrence of this event was "
                         "recorded."),
    _column("Type", "Type of this event (Normal, Warning)."),
    _column("Reason", "A short, machine understandable string that gives the reason for this "
                      "event."),
    _column("Object", "The object that this event is about."),
    _column("Subobject", "The part of the object this event is about.", priority=1),
    _column("Source", "The component reporting this event.", priority=1),
    _column("Message", "A human-readable description of the status of this operation."),
    _column("First Seen", "The time at which the event was first recorded.", priority=1),
    _column("Count", "The number of times this event has occurred.", priority=1),
    _name_column(priority=1),
)
# What the API server prints for a resource without a printer of its own.
_DEFAULT_COLUMNS = (
    _name_column(),
    _column("Created At", "CreationTimestamp is the server time when this object was created.",
            "date"),
)


# -- pods ------------------------------------------------------------------------------------------

@dataclass
class _PodTally:
    """What printPod accumulates while it walks the container statuses."""

    reason: str
    total: int = 0
    ready: int = 0
    restarts: int = 0
    last_restart: datetime | None = None
    sidecar_restarts: int = 0
    last_sidecar_restart: datetime | None = None
    has_running: bool = False


def _restartable(container: Mapping[str, Any] | None) -> bool:
    """A sidecar: an init container with restartPolicy Always."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _later(current: datetime | None, container: Mapping[str, Any]) -> datetime | None:
    """The later of `current` and when the container last terminated."""
    terminated = (container.get("lastState") or {}).get("terminated")
    finished = _timestamp((terminated or {}).get("finishedAt"))
    if finished is None or (current is not None and current >= finished):
        return current
    return finished


def _termination_reason(terminated: Mapping[str, Any]) -> str:
    if terminated.get("reason"):
        return terminated["reason"]
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode') or 0}"


def _tally_init_containers(tally: _PodTally, specs: list[dict], status: Mapping) -> bool:
    """Count init containers; True while the pod is still initializing (reason `Init:...`)."""
    by_name = {spec.get("name"): spec for spec in specs}
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        sidecar = _restartable(by_name.get(container.get("name")))
        count = int(container.get("restartCount") or 0)
        tally.restarts += count
        tally.last_restart = _later(tally.last_restart, container)
        if sidecar:
            tally.sidecar_restarts += count
            tally.last_sidecar_restart = _later(tally.last_sidecar_restart, container)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if sidecar and container.get("started"):
            tally.ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            tally.reason = "Init:" + _termination_reason(terminated)
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            tally.reason = "Init:" + waiting["reason"]
        else:
            tally.reason = f"Init:{index}/{len(specs)}"
        return True
    return False


def _tally_app_containers(tally: _PodTally, status: Mapping) -> None:
    """Count app containers; the first container's state wins the reason (walked backwards)."""
    tally.restarts, tally.last_restart = tally.sidecar_restarts, tally.last_sidecar_restart
    for container in reversed(status.get("containerStatuses") or []):
        tally.restarts += int(container.get("restartCount") or 0)
        tally.last_restart = _later(tally.last_restart, container)
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            tally.reason = waiting["reason"]
        elif terminated is not None:
            tally.reason = _termination_reason(terminated)
        elif container.get("ready") and state.get("running") is not None:
            tally.has_running = True
            tally.ready += 1
    # A finished sidecar-style container must not hide others still running.
    if tally.reason == "Completed" and tally.has_running:
        tally.reason = "Running" if _any_condition_true(status, "Ready") else "NotReady"


def _any_condition_true(status: Mapping, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in status.get("conditions") or [])


def _first_condition_true(status: Mapping, kind: str) -> bool:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return False


def _pod_reason(status: Mapping) -> str:
    reason = status.get("reason") or status.get("phase") or ""
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
           for c in status.get("conditions") or []):
        reason = "SchedulingGated"
    return reason


def _pod_cells(pod: Mapping, now: datetime) -> list:
    meta, spec, status = (pod.get(k) or {} for k in ("metadata", "spec", "status"))
    init_specs = spec.get("initContainers") or []
    tally = _PodTally(reason=_pod_reason(status))
    tally.total = len(spec.get("containers") or []) + sum(map(_restartable, init_specs))
    initializing = _tally_init_containers(tally, init_specs, status)
    if not initializing or _first_condition_true(status, "Initialized"):
        _tally_app_containers(tally, status)
    reason = tally.reason
    if meta.get("deletionTimestamp") is not None:
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart is not None:
        restarts = f"{tally.restarts} ({since(tally.last_restart, now)} ago)"
    return [meta.get("name", ""), f"{tally.ready}/{tally.total}", reason, restarts,
            since(meta.get("creationTimestamp"), now), *_pod_wide_cells(spec, status)]


def _pod_wide_cells(spec: Mapping, status: Mapping) -> list:
    pod_ips = status.get("podIPs") or []
    # The API server keeps podIPs[0] and podIP in step; an older object may have podIP only.
    ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = "<none>"
    if spec.get("readinessGates"):
        conditions = status.get("conditions") or []
        met = 0
        for gate in spec["readinessGates"]:
            found = next((c for c in conditions if c.get("type") == gate.get("conditionType")),
                         None)
            met += 1 if found is not None and found.get("status") == "True" else 0
        gates = f"{met}/{len(spec['readinessGates'])}"
    return [ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>",
            gates]


def _pod_conditions(pod: Mapping) -> list[dict]:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed",
                 "message": "The pod failed."}]
    return []


# -- services, replication controllers, nodes, endpoints, namespaces, events -------------------

def _service_external_ip(spec: Mapping, status: Mapping) -> str:
    kind, external = spec.get("type") or "ClusterIP", spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        balancers = sorted({i.get("ip") or i.get("hostname") for i in ingress} - {None, ""})
        return ",".join(balancers + external) or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def _service_cells(service: Mapping, now: datetime) -> list:
    meta, spec, status = (service.get(k) or {} for k in ("metadata", "spec", "status"))
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for port in spec.get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol') or 'TCP'}")
    return [meta.get("name", ""), spec.get("type") or "ClusterIP",
            cluster_ips[0] if cluster_ips else "<none>", _service_external_ip(spec, status),
            ",".join(ports) or "<none>", since(meta.get("creationTimestamp"), now),
            _labels(spec.get("selector"))]


def _rc_cells(rc: Mapping, now: datetime) -> list:
    meta, spec, status = (rc.get(k) or {} for k in ("metadata", "spec", "status"))
    template = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    replicas = spec.get("replicas")
    return [meta.get("name", ""), 1 if replicas is None else replicas,
            status.get("replicas") or 0, status.get("readyReplicas") or 0,
            since(meta.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in template),
            ",".join(c.get("image", "") for c in template), _labels(spec.get("selector"))]


def _node_roles(labels: Mapping[str, str]) -> str:
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role":
            roles.add(value)
    return ",".join(sorted(roles - {""})) or "<none>"


def _node_cells(node: Mapping, now: datetime) -> list:
    meta, spec, status = (node.get(k) or {} for k in ("metadata", "spec", "status"))
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    states = ["Unknown"] if not ready else [
        "Ready" if ready[-1].get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")

    return [meta.get("name", ""), ",".join(states), _node_roles(meta.get("labels") or {}),
            since(meta.get("creationTimestamp"), now), info.get("kubeletVersion") or "",
            address("InternalIP"), address("ExternalIP"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(subsets: list[Mapping] | None, shown: int = 3) -> str:
    """`10.244.1.2:80,10.244.2.3:80,10.244.3.4:80 + 2 more...`, as Kubernetes abbreviates."""
    if not subsets:
        return "<none>"
    listed: list[str] = []
    total = 0
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # a headless service may have addresses without ports
            total += len(addresses)
            listed += addresses
        for port in ports:
            total += len(addresses)
            listed += [_host_port(ip, port.get("port", 0)) for ip in addresses]
    text = ",".join(listed[:shown])
    return f"{text} + {total - shown} more..." if total > shown else text


def _endpoints_cells(endpoints: Mapping, now: datetime) -> list:
    meta = endpoints.get("metadata") or {}
    return [meta.get("name", ""), format_endpoints(endpoints.get("subsets")),
            since(meta.get("creationTimestamp"), now)]


def _namespace_cells(namespace: Mapping, now: datetime) -> list:
    meta = namespace.get("metadata") or {}
    return [meta.get("name", ""), (namespace.get("status") or {}).get("phase") or "",
            since(meta.get("creationTimestamp"), now)]


def _event_cells(event: Mapping, now: datetime) -> list:
    meta = event.get("metadata") or {}
    first = since(event.get("firstTimestamp"), now)
    if _timestamp(event.get("firstTimestamp")) is None:
        first = since(event.get("eventTime"), now)
    last = first
    if _timestamp(event.get("lastTimestamp")) is not None:
        last = since(event.get("lastTimestamp"), now)
    count = event.get("count") or 0
    if event.get("series") is not None:
        last = since(event["series"].get("lastObservedTime"), now)
        count = event["series"].get("count") or 0
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = event.get("involvedObject") or {}
    target = (involved.get("kind") or "").lower()
    if involved.get("name"):
        target = f"{target}/{involved['name']}"
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [last, event.get("type") or "", event.get("reason") or "", target,
            involved.get("fieldPath") or "", f"{component}, {instance}" if instance else component,
            (event.get("message") or "").strip(), first, count, meta.get("name", "")]


def _default_cells(obj: Mapping, now: datetime) -> list:
    created = _timestamp((obj.get("metadata") or {}).get("creationTimestamp"))
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if created else \
        "0001-01-01T00:00:00Z"
    return [(obj.get("metadata") or {}).get("name", ""), stamp]


# -- the table -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Printer:
    kind: str | None
    columns: tuple[dict, ...]
    cells: Callable[[Mapping, datetime], list]
    conditions: Callable[[Mapping], list[dict]] = lambda obj: []


_PRINTERS = {
    "pods": _Printer("Pod", _POD_COLUMNS, _pod_cells, _pod_conditions),
    "services": _Printer("Service", _SERVICE_COLUMNS, _service_cells),
    "replicationcontrollers": _Printer("ReplicationController", _RC_COLUMNS, _rc_cells),
    "nodes": _Printer("Node", _NODE_COLUMNS, _node_cells),
    "endpoints": _Printer("Endpoints", _ENDPOINTS_COLUMNS, _endpoints_cells),
    "namespaces": _Printer("Namespace", _NAMESPACE_COLUMNS, _namespace_cells),
    "events": _Printer("Event", _EVENT_COLUMNS, _event_cells),
}
_DEFAULT_PRINTER = _Printer(None, _DEFAULT_COLUMNS, _default_cells)


def columns(resource: str) -> list[dict]:
    """The column definitions of `resource`'s Table (a copy; priority 1 = `-o wide` only)."""
    return copy.deepcopy(list(_PRINTERS.get(resource, _DEFAULT_PRINTER).columns))


def _copy(value: Any) -> Any:
    """A deep copy; JSON's own types are copied directly, several times faster than
    copy.deepcopy, which dominated the Table of a long list."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in (str, int, float, bool, type(None)):
        return value
    return copy.deepcopy(value)


def _embedded(printer: _Printer, obj: Mapping, include_object: str) -> dict | None:
    if include_object == INCLUDE_NONE:
        return None
    if include_object == INCLUDE_OBJECT:
        full = _copy(dict(obj))
        if printer.kind and "kind" not in full:
            full = {"kind": printer.kind, "apiVersion": "v1", **full}
        return full
    return {"kind": "PartialObjectMetadata", "apiVersion": _TABLE_API_VERSION,
            "metadata": _copy(dict(obj.get("metadata") or {}))}


def _row(printer: _Printer, obj: Mapping, now: datetime, include_object: str) -> dict:
    row: dict[str, Any] = {"cells": printer.cells(obj, now)}
    if conditions := printer.conditions(obj):
        row["conditions"] = conditions
    embedded = _embedded(printer, obj, include_object)
    if embedded is not None:
        row["object"] = embedded
    return row


def table(resource: str, objects: list[dict], now: datetime, list_rv: str | None,
          include_object: str = INCLUDE_METADATA, *, no_headers: bool = False) -> dict:
    """The `meta.k8s.io/v1` Table of `objects` of `resource` (plural, e.g. "pods").

    One function for a list, a single object (`get NAME`) and a watch event (one row). `list_rv`
    goes to `metadata.resourceVersion` (pass the object's own for a single object; None omits it).
    `include_object` is Metadata (PartialObjectMetadata), Object (the full object) or None.
    Every column is filled, as the API server does; kubectl hides priority-1 ones without `-o wide`.
    A resource without its own printer gets Kubernetes' default Name / Created At table.

    Raises InvalidTableRequest for any other include_object.
    """
    include_object = include_object or INCLUDE_METADATA
    if include_object not in (INCLUDE_OBJECT, INCLUDE_METADATA, INCLUDE_NONE):
        raise InvalidTableRequest("unrecognized includeObject value: "
                                  + json.dumps(include_object, ensure_ascii=False))
    printer = _PRINTERS.get(resource, _DEFAULT_PRINTER)
    return {
        "kind": "Table",
        "apiVersion": _TABLE_API_VERSION,
        "metadata": {} if list_rv is None else {"resourceVersion": list_rv},
        "columnDefinitions": [] if no_headers else columns(resource),
        "rows": [_row(printer, obj, now, include_object) for obj in objects],
    }
