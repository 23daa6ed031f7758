"""The text of `describe` for pods, services, replication controllers, nodes and the rest.

Pure functions from objects already read (the object, its events, and what else the section
needs: a service's endpoints, an RC's pods, a node's pods) to kubectl's layout: labels on the
left, values aligned two spaces after the widest label of each block, nested parts indented by
two spaces per level, and the Events table at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from bosun.api.tables import format_endpoints, since
from bosun.ctl.sections import (
    NONE,
    Context,
    Text,
    annotations,
    events_section,
    header,
    labels,
    labels_and_annotations,
    meta_of,
    rfc1123,
)
from bosun.objects import quantity

# -- containers and pod templates -----------------------------------------------------------------

def _ports(container: dict, key: str) -> str:
    ports = container.get("ports") or []
    return ", ".join(f"{p.get(key, 0)}/{p.get('protocol') or 'TCP'}" for p in ports) or NONE


def _env_value(env: dict, pod: dict | None) -> str:
    if "valueFrom" not in env:
        return str(env.get("value", ""))
    source = env["valueFrom"] or {}
    if "fieldRef" in source:
        ref = source["fieldRef"] or {}
        path = ref.get("fieldPath", "")
        value = _field(pod, path) if pod is not None else ""
        return f"{value} ({ref.get('apiVersion', 'v1')}:{path})"
    if "resourceFieldRef" in source:
        return f"({source['resourceFieldRef'].get('resource', '')})"
    for key, what in (("secretKeyRef", "secret"), ("configMapKeyRef", "config map")):
        if key in source:
            ref = source[key] or {}
            return f"<set to the key '{ref.get('key', '')}' of {what} '{ref.get('name', '')}'>" \
                   f"  Optional: {'true' if ref.get('optional') else 'false'}"
    return ""


def _field(pod: dict, path: str) -> str:
    value: object = pod
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if isinstance(value, dict | list) else str(value)


def _state(text: Text, label: str, state: dict) -> None:
    for name, detail in (state or {}).items():
        text.line(2, f"{label}:", name.capitalize())
        detail = detail or {}
        for key, title in (("reason", "Reason"), ("message", "Message"),
                           ("exitCode", "Exit Code"), ("signal", "Signal")):
            if key in detail:
                text.line(3, f"{title}:", detail[key])
        for key, title in (("startedAt", "Started"), ("finishedAt", "Finished")):
            if detail.get(key):
                text.line(3, f"{title}:", rfc1123(detail[key]))
        return


def _resources(text: Text, container: dict) -> None:
    for kind in ("limits", "requests"):
        amounts = (container.get("resources") or {}).get(kind) or {}
        if amounts:
            text.line(2, f"{kind.capitalize()}:")
            for name, amount in sorted(amounts.items()):
                text.line(3, f"{name}:", amount)


def _container(text: Text, container: dict, status: dict | None, pod: dict | None) -> None:
    if status and status.get("containerID"):
        text.line(2, "Container ID:", status["containerID"])
    text.line(2, "Image:", container.get("image", ""))
    if status:
        text.line(2, "Image ID:", status.get("imageID", ""))
    plural = "s" if len(container.get("ports") or []) > 1 else ""
    text.line(2, f"Port{plural}:", _ports(container, "containerPort"))
    text.line(2, f"Host Port{plural}:", _ports(container, "hostPort"))
    for key in ("command", "args"):
        if container.get(key):
            text.line(2, f"{key.capitalize()}:")
            for arg in container[key]:
                text.line(3, arg)
    if status:
        _state(text, "State", status.get("state") or {"waiting": {}})
        if (status.get("lastState") or {}).get("terminated"):
            _state(text, "Last State", status["lastState"])
        text.line(2, "Ready:", "True" if status.get("ready") else "False")
        text.line(2, "Restart Count:", status.get("restartCount", 0))
    _resources(text, container)
    env = container.get("env") or []
    text.line(2, "Environment:", *([] if env else [NONE]))
    for item in env:
        text.line(3, f"{item.get('name', '')}:", _env_value(item, pod))
    mounts = sorted(container.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
    text.line(2, "Mounts:", *([] if mounts else [NONE]))
    for mount in mounts:
        mode = "ro" if mount.get("readOnly") else "rw"
        if mount.get("subPath"):
            mode += f',path="{mount["subPath"]}"'
        text.line(3, f"{mount.get('mountPath', '')} from {mount.get('name', '')} ({mode})")


def _containers(text: Text, level: int, title: str, containers: list[dict],
                statuses: list[dict], pod: dict | None, space: str = "") -> None:
    text.line(level, f"{title}:")
    by_name = {s.get("name"): s for s in statuses}
    for container in containers:
        text.line(1, f"{space}{container.get('name', '')}:")
        _container(text, container, by_name.get(container.get("name")), pod)


def _volumes(text: Text, level: int, volumes: list[dict]) -> None:
    if not volumes:
        text.line(level, "Volumes:", NONE)
        return
    text.line(level, "Volumes:")
    for volume in volumes:
        text.line(level + 1, f"{volume.get('name', '')}:")
        inner = level + 2
        if "emptyDir" in volume:
            empty = volume["emptyDir"] or {}
            text.line(inner, "Type:", "EmptyDir (a temporary directory that shares a pod's "
                                      "lifetime)")
            text.line(inner, "Medium:", empty.get("medium", ""))
            text.line(inner, "SizeLimit:", empty.get("sizeLimit") or "<unset>")
        elif "hostPath" in volume:
            host = volume["hostPath"] or {}
            text.line(inner, "Type:", "HostPath (bare host directory volume)")
            text.line(inner, "Path:", host.get("path", ""))
            text.line(inner, "HostPathType:", host.get("type", ""))
        else:
            kinds = [key for key in volume if key != "name"]
            text.line(inner, "Type:", f"{kinds[0] if kinds else 'unknown'} (unknown)")


def _toleration(toleration: dict) -> str:
    text = toleration.get("key", "")
    if toleration.get("value"):
        text += f"={toleration['value']}"
    if toleration.get("effect"):
        text += f":{toleration['effect']}"
    if toleration.get("operator") == "Exists":
        text += " op=Exists" if text else "op=Exists"
    if toleration.get("tolerationSeconds") is not None:
        text += f" for {toleration['tolerationSeconds']}s"
    return text


def _scheduling(text: Text, level: int, spec: dict) -> None:
    text.many(level, "Node-Selectors", labels(spec.get("nodeSelector")))
    text.many(level, "Tolerations", [_toleration(t) for t in spec.get("tolerations") or []])


def _template(text: Text, template: dict) -> None:
    spec = template.get("spec") or {}
    text.line(0, "Pod Template:")
    text.many(1, "Labels", labels(meta_of(template).get("labels")))
    if annotations(meta_of(template).get("annotations")):
        text.many(1, "Annotations", annotations(meta_of(template).get("annotations")))
    if spec.get("serviceAccountName"):
        text.line(1, "Service Account:", spec["serviceAccountName"])
    if spec.get("initContainers"):
        _containers(text, 1, "Init Containers", spec["initContainers"], [], None, " ")
    _containers(text, 1, "Containers", spec.get("containers") or [], [], None, " ")
    _volumes(text, 1, spec.get("volumes") or [])
    _scheduling(text, 1, spec)


# -- the kinds ------------------------------------------------------------------------------------

def qos_class(pod: dict) -> str:
    """status.qosClass, else as Kubernetes derives it from requests and limits."""
    given = (pod.get("status") or {}).get("qosClass")
    if given:
        return given
    containers = (pod.get("spec") or {}).get("containers") or []
    amounts = [(c.get("resources") or {}) for c in containers]
    if not any(r.get("limits") or r.get("requests") for r in amounts):
        return "BestEffort"
    guaranteed = all(
        all(((r.get("limits") or {}).get(k) is not None and
             (r.get("requests") or {}).get(k, r["limits"][k]) == r["limits"][k])
            for k in ("cpu", "memory")) for r in amounts)
    return "Guaranteed" if guaranteed else "Burstable"


def describe_pod(pod: dict, context: Context) -> str:
    text = Text()
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    header(text, pod)
    if spec.get("priority") is not None:
        text.line(0, "Priority:", spec["priority"])
    if spec.get("serviceAccountName"):
        text.line(0, "Service Account:", spec["serviceAccountName"])
    node = spec.get("nodeName")
    text.line(0, "Node:", f"{node}/{status.get('hostIP', '')}" if node else NONE)
    if status.get("startTime"):
        text.line(0, "Start Time:", rfc1123(status["startTime"]))
    labels_and_annotations(text, pod)
    _pod_status(text, pod, context)
    if spec.get("initContainers"):
        _containers(text, 0, "Init Containers", spec["initContainers"],
                    status.get("initContainerStatuses") or [], pod)
    _containers(text, 0, "Containers", spec.get("containers") or [],
                status.get("containerStatuses") or [], pod)
    if status.get("conditions"):
        text.line(0, "Conditions:")
        text.line(1, "Type", "Status")
        for condition in status["conditions"]:
            text.line(1, condition.get("type", ""), condition.get("status", ""))
    _volumes(text, 0, spec.get("volumes") or [])
    text.line(0, "QoS Class:", qos_class(pod))
    _scheduling(text, 0, spec)
    events_section(text, context)
    return text.render()


def _pod_status(text: Text, pod: dict, context: Context) -> None:
    """Status (Terminating while deleted), reason, message, IPs and the controller."""
    meta, status = meta_of(pod), pod.get("status") or {}
    phase = status.get("phase", "")
    if meta.get("deletionTimestamp"):
        phase = f"Terminating (lasts {since(meta['deletionTimestamp'], context.now)})"
    text.line(0, "Status:", phase)
    for key in ("reason", "message"):
        if status.get(key):
            text.line(0, f"{key.capitalize()}:", status[key])
    text.line(0, "IP:", status.get("podIP", ""))
    ips = [entry.get("ip", "") for entry in status.get("podIPs") or []]
    text.line(0, "IPs:", *([] if ips else [NONE]))
    for ip in ips:
        text.line(1, "IP:", ip)
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), None)
    if owner:
        text.line(0, "Controlled By:", f"{owner.get('kind')}/{owner.get('name')}")


def _service_endpoints(endpoints: dict | None, port_name: str) -> str:
    subsets = []
    for subset in (endpoints or {}).get("subsets") or []:
        ports = [p for p in subset.get("ports") or [] if (p.get("name") or "") == port_name]
        if ports:
            subsets.append({**subset, "ports": ports})
    return format_endpoints(subsets) if subsets else NONE


def describe_service(service: dict, context: Context) -> str:
    text = Text()
    spec = service.get("spec") or {}
    header(text, service)
    labels_and_annotations(text, service)
    text.line(0, "Selector:", ",".join(labels(spec.get("selector"))) or NONE)
    kind = spec.get("type") or "ClusterIP"
    text.line(0, "Type:", kind)
    text.line(0, "IP Family Policy:", spec.get("ipFamilyPolicy", ""))
    text.line(0, "IP Families:", ",".join(spec.get("ipFamilies") or []) or NONE)
    text.line(0, "IP:", spec.get("clusterIP", ""))
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    text.line(0, "IPs:", ",".join(ips) or NONE)
    if spec.get("externalIPs"):
        text.line(0, "External IPs:", ",".join(spec["externalIPs"]))
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol") or "TCP"
        text.line(0, "Port:", f"{name}  {port.get('port')}/{protocol}")
        target = port.get("targetPort", port.get("port"))
        text.line(0, "TargetPort:", f"{target}/{protocol}")
        if port.get("nodePort"):
            text.line(0, "NodePort:", f"{name}  {port['nodePort']}/{protocol}")
        text.line(0, "Endpoints:", _service_endpoints(context.endpoints, port.get("name") or ""))
    text.line(0, "Session Affinity:", spec.get("sessionAffinity") or "None")
    if kind in ("NodePort", "LoadBalancer"):
        text.line(0, "External Traffic Policy:", spec.get("externalTrafficPolicy") or "Cluster")
    text.line(0, "Internal Traffic Policy:", spec.get("internalTrafficPolicy") or "Cluster")
    events_section(text, context)
    return text.render()


def describe_rc(rc: dict, context: Context) -> str:
    text = Text()
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    header(text, rc)
    text.line(0, "Selector:", ",".join(labels(spec.get("selector"))))
    labels_and_annotations(text, rc)
    replicas = spec.get("replicas", 1)
    text.line(0, "Replicas:", f"{status.get('replicas', 0)} current / {replicas} desired")
    phases = [(p.get("status") or {}).get("phase") for p in context.pods]
    text.line(0, "Pods Status:", f"{phases.count('Running')} Running / "
                                 f"{phases.count('Pending')} Waiting / "
                                 f"{phases.count('Succeeded')} Succeeded / "
                                 f"{phases.count('Failed')} Failed")
    _template(text, spec.get("template") or {})
    events_section(text, context)
    return text.render()


def _node_info(text: Text, status: dict) -> None:
    info = status.get("nodeInfo") or {}
    text.line(0, "System Info:")
    for key, title in (("machineID", "Machine ID"), ("systemUUID", "System UUID"),
                       ("bootID", "Boot ID"), ("kernelVersion", "Kernel Version"),
                       ("osImage", "OS Image"), ("operatingSystem", "Operating System"),
                       ("architecture", "Architecture"),
                       ("containerRuntimeVersion", "Container Runtime Version"),
                       ("kubeletVersion", "Kubelet Version"),
                       ("kubeProxyVersion", "Kube-Proxy Version")):
        text.line(1, f"{title}:", info.get(key, ""))


def _amount(value: object) -> Fraction:
    try:
        return quantity.parse(value)  # type: ignore[arg-type]
    except quantity.QuantityError:
        return Fraction(0)


def _share(amount: Fraction, total: Fraction, binary: bool) -> str:
    shown = quantity.format_quantity(amount, quantity.BINARY_SI if binary else
                                     quantity.DECIMAL_SI)
    percent = int(amount * 100 / total) if total else 0
    return f"{shown} ({percent}%)"


def _pod_totals(pod: dict) -> dict[str, Fraction]:
    totals: dict[str, Fraction] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        for kind in ("requests", "limits"):
            for name, value in ((container.get("resources") or {}).get(kind) or {}).items():
                key = f"{kind}.{name}"
                totals[key] = totals.get(key, Fraction(0)) + _amount(value)
    return totals


def _node_pods(text: Text, status: dict, context: Context) -> None:
    allocatable = {k: _amount(v) for k, v in (status.get("allocatable") or {}).items()}
    text.line(0, "Non-terminated Pods:", f"({len(context.pods)} in total)")
    # kubectl leaves an empty column after Name
    text.line(1, "Namespace", "Name", "", "CPU Requests", "CPU Limits", "Memory Requests",
              "Memory Limits", "Age")
    text.line(1, "---------", "----", "", "------------", "----------", "---------------",
              "-------------", "---")
    sums: dict[str, Fraction] = {}
    for pod in context.pods:
        totals = _pod_totals(pod)
        cells = []
        for key in ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory"):
            resource = key.split(".")[1]
            cells.append(_share(totals.get(key, Fraction(0)),
                                allocatable.get(resource, Fraction(0)), resource == "memory"))
        for key, value in totals.items():
            sums[key] = sums.get(key, Fraction(0)) + value
        meta = meta_of(pod)
        text.line(1, meta.get("namespace", ""), meta.get("name", ""), "", *cells,
                  since(meta.get("creationTimestamp"), context.now))
    text.line(0, "Allocated resources:")
    text.line(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
    text.line(1, "Resource", "Requests", "Limits")
    text.line(1, "--------", "--------", "------")
    for resource in ("cpu", "memory", "ephemeral-storage"):
        total = allocatable.get(resource, Fraction(0))
        binary = resource != "cpu"
        text.line(1, resource, _share(sums.get(f"requests.{resource}", Fraction(0)), total,
                                      binary),
                  _share(sums.get(f"limits.{resource}", Fraction(0)), total, binary))


def _lease(text: Text, lease: dict | str | None) -> None:
    if isinstance(lease, str):
        text.line(0, "Lease:", f"Failed to get lease: {lease}")
    elif lease is not None:
        spec = lease.get("spec") or {}
        text.line(0, "Lease:")
        text.line(1, "HolderIdentity:", spec.get("holderIdentity") or "<unset>")
        text.line(1, "AcquireTime:", rfc1123(spec.get("acquireTime")) if
                  spec.get("acquireTime") else "<unset>")
        text.line(1, "RenewTime:", rfc1123(spec.get("renewTime")) if
                  spec.get("renewTime") else "<unset>")


def describe_node(node: dict, context: Context) -> str:
    text = Text()
    meta, spec, status = meta_of(node), node.get("spec") or {}, node.get("status") or {}
    header(text, node, namespaced=False)
    roles = sorted(k.removeprefix("node-role.kubernetes.io/") for k in meta.get("labels") or {}
                   if k.startswith("node-role.kubernetes.io/"))
    text.line(0, "Roles:", ",".join(roles) or NONE)
    labels_and_annotations(text, node)
    text.line(0, "CreationTimestamp:", rfc1123(meta.get("creationTimestamp")))
    text.many(0, "Taints", [_toleration(t) for t in spec.get("taints") or []])
    text.line(0, "Unschedulable:", "true" if spec.get("unschedulable") else "false")
    _lease(text, context.lease)
    if status.get("conditions"):
        text.line(0, "Conditions:")
        text.line(1, "Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason",
                  "Message")
        text.line(1, "----", "------", "-----------------", "------------------", "------",
                  "-------")
        for c in status["conditions"]:
            # kubectl ends these cells with a space, which widens their columns by one
            cells = [c.get("type", ""), c.get("status", ""), rfc1123(c.get("lastHeartbeatTime")),
                     rfc1123(c.get("lastTransitionTime")), c.get("reason", "")]
            text.line(1, *(f"{cell} " for cell in cells), c.get("message", ""))
    text.line(0, "Addresses:")
    for address in status.get("addresses") or []:
        text.line(1, f"{address.get('type', '')}:", address.get("address", ""))
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if status.get(key):
            text.line(0, f"{title}:")
            for name, value in sorted(status[key].items()):
                text.line(1, f"{name}:", value)
    _node_info(text, status)
    text.line(0, "PodCIDR:", spec.get("podCIDR", ""))
    if spec.get("podCIDRs"):
        text.line(0, "PodCIDRs:", ",".join(spec["podCIDRs"]))
    _node_pods(text, status, context)
    events_section(text, context)
    return text.render()


def _subsets(text: Text, subsets: list[dict]) -> None:
    text.line(0, "Subsets:")
    for subset in subsets:
        for key, title in (("addresses", "Addresses"), ("notReadyAddresses",
                                                         "NotReadyAddresses")):
            ips = [a.get("ip", "") for a in subset.get(key) or []]
            text.line(1, f"{title}:", ",".join(ips) or NONE)
        if subset.get("ports"):
            text.line(1, "Ports:")
            text.line(2, "Name", "Port", "Protocol")
            text.line(2, "----", "----", "--------")
            for port in subset["ports"]:
                text.line(2, port.get("name") or "<unset>", port.get("port", 0),
                          port.get("protocol") or "TCP")
        text.line(0, "")


def describe_other(obj: dict, context: Context, namespaced: bool = True) -> str:
    """Names, labels and annotations, a namespace's status, then the events."""
    text = Text()
    header(text, obj, namespaced)
    labels_and_annotations(text, obj)
    if obj.get("kind") == "Namespace":  # kubectl shows a namespace's quotas, not events
        text.line(0, "Status:", (obj.get("status") or {}).get("phase", ""))
        return text.render()
    if obj.get("kind") == "Endpoints":
        _subsets(text, obj.get("subsets") or [])
    events_section(text, context)
    return text.render()


DESCRIBERS: dict[str, Callable[[dict, Context], str]] = {
    "pods": describe_pod,
    "services": describe_service,
    "replicationcontrollers": describe_rc,
    "nodes": describe_node,
}
