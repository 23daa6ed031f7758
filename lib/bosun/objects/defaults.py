"""Server-side defaults: the fields a Kubernetes v1 API server fills in before it stores an object.

`apply_defaults(resource, obj)` returns a new object, never touching its input, and applying it
twice changes nothing more. It also prints quantities in canonical form (`0.5` -> `500m`) and
writes the empty structs Kubernetes always serializes (`resources: {}`, a node's `nodeInfo`),
so that strict clients can read what Bosun returns. It tolerates malformed input (validation
reports that); addresses and ports that need the store are `allocation`'s job.
"""

from __future__ import annotations

import copy
import re

from bosun.objects import quantity, schema
from bosun.objects.registry import info

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_CLIENT_IP_TIMEOUT = 10800
NODE_INFO_FIELDS = ("architecture", "bootID", "containerRuntimeVersion", "kernelVersion",
                    "kubeProxyVersion", "kubeletVersion", "machineID", "operatingSystem",
                    "osImage", "systemUUID")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                   ("failureThreshold", 3))
_QOS_RESOURCES = ("cpu", "memory")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IMAGE_REF = re.compile(
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?")


def _obj(parent: dict, key: str) -> dict:
    """parent[key] as a dict, created when absent; a detached dict when it holds a non-dict."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else {}


def _dicts(parent: dict, key: str) -> list[dict]:
    value = parent.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _default(target: dict, key: str, value: object) -> None:
    """Fill `key` when it is absent, null or the empty string (Go's zero value for strings)."""
    if target.get(key) is None or target.get(key) == "":
        target[key] = value


def apply_defaults(resource: str, obj: dict) -> dict:
    """A copy of `obj` with Kubernetes v1's defaults filled in. Never raises for malformed input.

    `resource` is `pods`, `services`, ... (a subresource such as `pods/status` means its main
    resource); unknown resources raise registry.UnknownResource.
    """
    res = info(resource)
    out = copy.deepcopy(obj)
    if not isinstance(out, dict):
        return out
    kind = info(res.resource).kind
    _default(out, "apiVersion", "v1")
    _default(out, "kind", kind)
    if not isinstance(out.get("metadata"), dict):
        out["metadata"] = {}
    _BY_RESOURCE[res.resource](out)
    return schema.map_quantities(kind, out, _canonical_quantity)


def _canonical_quantity(value: object) -> object:
    try:
        return quantity.canonical(value)
    except quantity.QuantityError:
        return value


def image_pull_policy(image: object) -> str:
    """`Always` for `:latest` or an untagged image, `IfNotPresent` otherwise (also when the
    reference does not parse, as Kubernetes does)."""
    match = _IMAGE_REF.fullmatch(image) if isinstance(image, str) else None
    if not match:
        return "IfNotPresent"
    tag = match.group("tag") or ("" if match.group("digest") else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _container(container: dict) -> None:
    if container.get("imagePullPolicy") in (None, ""):
        container["imagePullPolicy"] = image_pull_policy(container.get("image"))
    _default(container, "terminationMessagePath", "/dev/termination-log")
    _default(container, "terminationMessagePolicy", "File")
    if container.get("resources") is None:
        container["resources"] = {}
    for port in _dicts(container, "ports"):
        _default(port, "protocol", "TCP")
    for env in _dicts(container, "env"):
        source = env.get("valueFrom")
        if isinstance(source, dict) and isinstance(source.get("fieldRef"), dict):
            _default(source["fieldRef"], "apiVersion", "v1")
        if isinstance(source, dict) and isinstance(source.get("resourceFieldRef"), dict):
            _default(source["resourceFieldRef"], "divisor", "0")
    for name in _PROBES:
        if isinstance(container.get(name), dict):
            _probe(container[name])
    lifecycle = container.get("lifecycle")
    for hook in ("postStart", "preStop"):
        if isinstance(lifecycle, dict) and isinstance(lifecycle.get(hook), dict):
            _handler(lifecycle[hook])


def _probe(probe: dict) -> None:
    for key, value in _PROBE_DEFAULTS:
        if not probe.get(key):
            probe[key] = value
    _handler(probe)
    if isinstance(probe.get("grpc"), dict) and probe["grpc"].get("service") is None:
        probe["grpc"]["service"] = ""


def _handler(handler: dict) -> None:
    if isinstance(handler.get("httpGet"), dict):
        _default(handler["httpGet"], "path", "/")
        _default(handler["httpGet"], "scheme", "HTTP")


def _volume(volume: dict) -> None:
    if all(value is None for key, value in volume.items() if key != "name"):
        volume["emptyDir"] = {}
    if isinstance(volume.get("hostPath"), dict) and volume["hostPath"].get("type") is None:
        volume["hostPath"]["type"] = ""


def pod_spec_defaults(spec: dict) -> None:
    """Defaults of a PodSpec, in pods and in pod templates alike (in place)."""
    _default(spec, "dnsPolicy", "ClusterFirst")
    _default(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    _default(spec, "terminationGracePeriodSeconds", 30)
    _default(spec, "schedulerName", "default-scheduler")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in _dicts(spec, key):
            _container(container)
    for volume in _dicts(spec, "volumes"):
        _volume(volume)


def _requests_from_limits(container: dict) -> None:
    resources = container.get("resources")
    limits = resources.get("limits") if isinstance(resources, dict) else None
    if not isinstance(limits, dict):
        return
    requests = _obj(resources, "requests")
    for name, value in limits.items():
        requests.setdefault(name, copy.deepcopy(value))


def _pod(obj: dict) -> None:
    spec = _obj(obj, "spec")
    pod_spec_defaults(spec)
    _default(spec, "enableServiceLinks", True)
    for container in _dicts(spec, "containers") + _dicts(spec, "initContainers"):
        _requests_from_limits(container)
        if spec.get("hostNetwork") is True:
            for port in _dicts(container, "ports"):
                if not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")
    status = _obj(obj, "status")
    _default(status, "phase", "Pending")
    _default(status, "qosClass", qos_class(spec))


def qos_class(spec: dict) -> str:
    """The pod's QoS class (BestEffort, Burstable, Guaranteed) from its containers' resources."""
    requests: dict[str, object] = {}
    limits: dict[str, object] = {}
    guaranteed = True
    for container in _dicts(spec, "containers") + _dicts(spec, "initContainers"):
        resources = container.get("resources") if isinstance(container, dict) else None
        resources = resources if isinstance(resources, dict) else {}
        _add_positive(requests, resources.get("requests"))
        found = _add_positive(limits, resources.get("limits"))
        if not set(_QOS_RESOURCES) <= found:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests.keys() == limits.keys() and all(
            requests[k] == limits[k] for k in requests):
        return "Guaranteed"
    return "Burstable"


def _add_positive(totals: dict, amounts: object) -> set[str]:
    found = set()
    for name, value in (amounts.items() if isinstance(amounts, dict) else ()):
        try:
            amount = quantity.parse(value)
        except quantity.QuantityError:
            continue
        if name in _QOS_RESOURCES and amount > 0:
            found.add(name)
            totals[name] = totals.get(name, 0) + amount
    return found


def _replication_controller(obj: dict) -> None:
    spec = _obj(obj, "spec")
    template = spec.get("template")
    if isinstance(template, dict):
        meta = _obj(template, "metadata")
        meta.setdefault("creationTimestamp", None)
        labels = meta.get("labels")
        if isinstance(labels, dict):
            if not spec.get("selector"):
                spec["selector"] = copy.deepcopy(labels)
            if not obj["metadata"].get("labels"):
                obj["metadata"]["labels"] = copy.deepcopy(labels)
        pod_spec_defaults(_obj(template, "spec"))
    _default(spec, "replicas", 1)
    _default(_obj(obj, "status"), "replicas", 0)


def _service(obj: dict) -> None:
    spec = _obj(obj, "spec")
    _default(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_TIMEOUT}}
    _default(spec, "type", "ClusterIP")
    for port in _dicts(spec, "ports"):
        _default(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    kind = spec["type"]
    if kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs")):
        _default(spec, "externalTrafficPolicy", "Cluster")
    if kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        _default(spec, "internalTrafficPolicy", "Cluster")
        _service_ips(spec)
    _obj(_obj(obj, "status"), "loadBalancer")


def _service_ips(spec: dict) -> None:
    """clusterIP and clusterIPs mirror each other; Bosun's service network is single-stack IPv4."""
    ips = spec.get("clusterIPs")
    if spec.get("clusterIP") and not ips:
        spec["clusterIPs"] = [spec["clusterIP"]]
    elif isinstance(ips, list) and ips and not spec.get("clusterIP"):
        spec["clusterIP"] = ips[0]
    headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
    if not spec.get("ipFamilies"):
        _default(spec, "ipFamilyPolicy",
                 "RequireDualStack" if headless_without_selector else "SingleStack")
        spec["ipFamilies"] = ["IPv4"]
    _default(spec, "ipFamilyPolicy", "SingleStack")


def _namespace(obj: dict) -> None:
    spec = _obj(obj, "spec")
    if spec.get("finalizers") is None:
        spec["finalizers"] = ["kubernetes"]
    _default(_obj(obj, "status"), "phase", "Active")
    name = obj["metadata"].get("name")
    if isinstance(name, str) and name:
        _obj(obj["metadata"], "labels")[NAMESPACE_NAME_LABEL] = name


def _node(obj: dict) -> None:
    _obj(obj, "spec")
    status = _obj(obj, "status")
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = copy.deepcopy(status["capacity"])
    _default(_obj(_obj(status, "daemonEndpoints"), "kubeletEndpoint"), "Port", 0)
    node_info = _obj(status, "nodeInfo")
    for key in NODE_INFO_FIELDS:
        _default(node_info, key, "")


def _endpoints(obj: dict) -> None:
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            _default(port, "protocol", "TCP")


def _event(obj: dict) -> None:
    _obj(obj, "involvedObject")
    _obj(obj, "source")
    for key in ("reportingComponent", "reportingInstance"):
        _default(obj, key, "")
    for key in ("eventTime", "firstTimestamp", "lastTimestamp"):
        obj.setdefault(key, None)


_BY_RESOURCE = {
    "pods": _pod, "replicationcontrollers": _replication_controller, "services": _service,
    "namespaces": _namespace, "nodes": _node, "endpoints": _endpoints, "events": _event,
}


def initial_status(resource: str, obj: dict) -> dict:
    """The status a new object starts with when its create request may not set one."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    return {
        "pods": lambda: {"phase": "Pending", "qosClass": qos_class(spec)},
        "services": lambda: {"loadBalancer": {}},
        "replicationcontrollers": lambda: {"replicas": 0},
        "namespaces": lambda: {"phase": "Active"},
    }[resource]()
