"""Validation of services: ports, selector, cluster IP, node ports, session affinity, policies.

Bosun's proxy implements ClusterIP and NodePort services; LoadBalancer and ExternalName are
refused with a 422 that says so, rather than stored and never served.
"""

from __future__ import annotations

from bosun.objects import fielderrors as fe
from bosun.objects import names
from bosun.objects.fielderrors import FieldError, GoValue
from bosun.objects.meta import validate_labels, validate_object_meta, validate_object_meta_update
from bosun.objects.validation.common import (
    IMMUTABLE,
    SERVICE_PROTOCOLS,
    SERVICE_PROTOCOLS_NOTE,
    as_dict,
    check,
    dicts,
    enum,
    integer,
    port_number,
    port_number_or_name,
    protocol,
    text,
)

SERVICE_TYPES = ("ClusterIP", "NodePort")
TYPES_NOTE = " (Bosun implements neither LoadBalancer nor ExternalName services)"
AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
IP_FAMILIES = ("IPv4", "IPv6")
MAX_CLIENT_IP_TIMEOUT = 86400
_LOAD_BALANCER_ONLY = ("loadBalancerSourceRanges", "loadBalancerClass",
                       "allocateLoadBalancerNodePorts")


def validate_service(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("services", obj)
    spec = as_dict(obj.get("spec"))
    kind = text(spec.get("type"))
    errs += enum("spec.type", kind, SERVICE_TYPES, TYPES_NOTE)
    ports = dicts(spec.get("ports"))
    if not ports and spec.get("clusterIP") != "None":
        errs.append(fe.required("spec.ports"))
    errs += _ports(ports, headless=spec.get("clusterIP") == "None") + _node_ports(ports, kind)
    errs += _cluster_ips(spec) + _ip_families(spec)
    errs += _affinity(spec) + _traffic_policies(spec, kind)
    errs += validate_labels(spec.get("selector"), "spec.selector")
    for i, ip in enumerate(spec.get("externalIPs") or []):
        errs += check(f"spec.externalIPs[{i}]", text(ip), names.ip_address)
    for key in _LOAD_BALANCER_ONLY:
        if spec.get(key) is not None and kind != "LoadBalancer":
            errs.append(fe.forbidden(f"spec.{key}", "may only be used when `type` is "
                                     "'LoadBalancer'"))
    if old is not None:
        errs += validate_object_meta_update(obj, old)
        errs += _cluster_ip_update(spec, as_dict(old.get("spec")))
    return errs


def validate_service_status(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("services", obj)
    return errs + (validate_object_meta_update(obj, old) if old is not None else [])


def _go_service_port(protocol_name: str, port: int | None = 0, node_port: int = 0) -> GoValue:
    """How the API server prints the (protocol, port) key of a duplicate service port."""
    return GoValue(
        f'core.ServicePort{{Name:"", Protocol:{fe.go_quote(protocol_name)}, '
        f"AppProtocol:(*string)(nil), Port:{port or 0}, "
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, '
        f"NodePort:{node_port}}}")


def _ports(ports: list[dict], headless: bool) -> list[FieldError]:
    """A headless service's ports are not proxied (clients go to the pods), so they may be
    UDP; every other service's go through the proxy, TCP only."""
    errs: list[FieldError] = []
    seen_names: set[str] = set()
    seen_keys: set[tuple[str, int | None]] = set()
    for i, port in enumerate(ports):
        at = f"spec.ports[{i}]"
        name = text(port.get("name"))
        if len(ports) > 1 and not name:
            errs.append(fe.required(f"{at}.name"))
        elif name:
            errs += check(f"{at}.name", name, names.dns1123_label)
            if name in seen_names:
                errs.append(fe.duplicate(f"{at}.name", name))
            seen_names.add(name)
        errs += port_number(f"{at}.port", port.get("port"))
        errs += (protocol(f"{at}.protocol", port.get("protocol")) if headless else
                 protocol(f"{at}.protocol", port.get("protocol"), SERVICE_PROTOCOLS,
                          SERVICE_PROTOCOLS_NOTE))
        if port.get("targetPort") is not None:
            errs += port_number_or_name(f"{at}.targetPort", port["targetPort"])
        key = (text(port.get("protocol")) or "TCP", integer(port.get("port")))
        if key in seen_keys:
            errs.append(fe.duplicate(at, _go_service_port(*key)))
        seen_keys.add(key)
    return errs


def _node_ports(ports: list[dict], kind: str) -> list[FieldError]:
    errs = []
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        node_port = integer(port.get("nodePort")) or 0
        if not node_port:
            continue
        at = f"spec.ports[{i}].nodePort"
        if kind == "ClusterIP":
            errs.append(fe.forbidden(at, "may not be used when `type` is 'ClusterIP'"))
        key = (text(port.get("protocol")) or "TCP", node_port)
        if key in seen:
            errs.append(fe.duplicate(at, node_port))
        seen.add(key)
    return errs


def _cluster_ips(spec: dict) -> list[FieldError]:
    ip = text(spec.get("clusterIP"))
    ips = [text(v) for v in spec.get("clusterIPs") or []]
    errs: list[FieldError] = []
    if ip and ip != "None" and not ips:
        errs += check("spec.clusterIP", ip, names.ip_address)
    if ips and ips[0] != ip:
        errs.append(fe.invalid("spec.clusterIPs[0]", ips[0], "must match `clusterIP`"))
    if len(ips) > 1:
        errs.append(fe.invalid("spec.clusterIPs", fe.go_string_list(ips),
                               "Bosun's service network is single-stack: at most one value"))
    for i, value in enumerate(ips):
        if not (i == 0 and value == "None"):
            errs += check(f"spec.clusterIPs[{i}]", value, names.ip_address)
    return errs


def _ip_families(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, family in enumerate(spec.get("ipFamilies") or []):
        at = f"spec.ipFamilies[{i}]"
        family = text(family)
        if family not in IP_FAMILIES:
            errs.append(fe.not_supported(at, family, IP_FAMILIES))
        elif family == "IPv6":
            errs.append(fe.invalid(at, family, "not configured on this cluster"))
        if family in seen:
            errs.append(fe.duplicate(at, family))
        seen.add(family)
    policy = text(spec.get("ipFamilyPolicy"))
    errs += enum("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES)
    headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
    if policy == "RequireDualStack" and not headless_without_selector:
        errs.append(fe.invalid("spec.ipFamilyPolicy", policy,
                               "this cluster is not configured for dual-stack services"))
    return errs


def _affinity(spec: dict) -> list[FieldError]:
    affinity = text(spec.get("sessionAffinity"))
    errs = enum("spec.sessionAffinity", affinity, AFFINITIES)
    config = spec.get("sessionAffinityConfig")
    if affinity == "None" and config is not None:
        errs.append(fe.forbidden("spec.sessionAffinityConfig",
                                 "must not be set when session affinity is None"))
    timeout = integer(as_dict(as_dict(config).get("clientIP")).get("timeoutSeconds"))
    if affinity == "ClientIP" and timeout is not None and not 0 < timeout <= MAX_CLIENT_IP_TIMEOUT:
        errs.append(fe.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                               f"must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT}"))
    return errs


def _traffic_policies(spec: dict, kind: str) -> list[FieldError]:
    external = text(spec.get("externalTrafficPolicy"))
    accessible = kind in ("NodePort", "LoadBalancer") or bool(spec.get("externalIPs"))
    errs = []
    if external and not accessible:
        errs.append(fe.invalid("spec.externalTrafficPolicy", external,
                               "may only be set for externally-accessible services"))
    elif external:
        errs += enum("spec.externalTrafficPolicy", external, TRAFFIC_POLICIES)
    return errs + enum("spec.internalTrafficPolicy", spec.get("internalTrafficPolicy"),
                       TRAFFIC_POLICIES)


def _cluster_ip_update(spec: dict, old: dict) -> list[FieldError]:
    """A cluster IP, once set, stays (an empty one in the update is filled from the old)."""
    old_ip, ip = text(old.get("clusterIP")), text(spec.get("clusterIP"))
    if old_ip and old.get("type") != "ExternalName" and ip != old_ip:
        return [fe.invalid("spec.clusterIP", ip, IMMUTABLE)]
    return []
