"""Validation of namespaces, nodes, endpoints and events.

Node status is checked too (the agentless kubelet writes it through the API): strict clients
cannot read a node whose conditions or addresses lack their type.
"""

from __future__ import annotations

import ipaddress

from bosun.objects import fielderrors as fe
from bosun.objects import names
from bosun.objects.fielderrors import FieldError
from bosun.objects.meta import validate_object_meta, validate_object_meta_update
from bosun.objects.validation.common import (
    as_dict,
    check,
    dicts,
    enum,
    parsed_quantity,
    port_number,
    protocol,
    text,
)

STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
NAMESPACE_PHASES = ("Active", "Terminating")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
ADDRESS_TYPES = ("Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS")
CONDITION_STATUSES = ("True", "False", "Unknown")
EVENT_TYPES = ("Normal", "Warning")


def _with_update(errs: list[FieldError], obj: dict, old: dict | None) -> list[FieldError]:
    return errs + (validate_object_meta_update(obj, old) if old is not None else [])


def validate_namespace(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("namespaces", obj)
    for finalizer in as_dict(obj.get("spec")).get("finalizers") or []:
        value = text(finalizer)
        errs += check("spec.finalizers", value, names.qualified_name)
        if "/" not in value and value not in STANDARD_FINALIZERS:
            errs.append(fe.invalid("spec.finalizers", value, "name is neither a standard "
                                   "finalizer name nor is it fully qualified"))
    errs += enum("status.phase", as_dict(obj.get("status")).get("phase"), NAMESPACE_PHASES)
    return _with_update(errs, obj, old)


def validate_node(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("nodes", obj)
    spec, status = as_dict(obj.get("spec")), as_dict(obj.get("status"))
    for i, value in enumerate(spec.get("podCIDRs") or []):
        errs += check(f"spec.podCIDRs[{i}]", text(value), names.cidr)
    errs += _taints(spec.get("taints"))
    for part in ("capacity", "allocatable"):
        for name, value in as_dict(status.get(part)).items():
            errs += parsed_quantity(f"status.{part}[{name}]", value)[1]
    for i, address in enumerate(dicts(status.get("addresses"))):
        errs += enum(f"status.addresses[{i}].type", address.get("type"), ADDRESS_TYPES)
    for i, condition in enumerate(dicts(status.get("conditions"))):
        errs += enum(f"status.conditions[{i}].status", condition.get("status"),
                     CONDITION_STATUSES)
    if old is not None:
        old_cidrs = as_dict(old.get("spec")).get("podCIDRs")
        if old_cidrs and spec.get("podCIDRs") != old_cidrs:
            errs.append(fe.forbidden("spec.podCIDRs", "node updates may not change podCIDR "
                                     'except from "" to valid'))
    return _with_update(errs, obj, old)


def _taints(taints: object) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(dicts(taints)):
        at = f"spec.taints[{i}]"
        key, effect = text(taint.get("key")), text(taint.get("effect"))
        errs += check(f"{at}.key", key, names.qualified_name)
        reasons = names.label_value(text(taint.get("value")))
        if reasons:
            errs.append(fe.invalid(f"{at}.value", text(taint.get("value")), ";".join(reasons)))
        if not effect:
            errs.append(fe.required(f"{at}.effect"))
        errs += enum(f"{at}.effect", effect, TAINT_EFFECTS)
        if (key, effect) in seen:
            errs.append(fe.FieldError(fe.DUPLICATE, at, fe.GoValue(f"{key}:{effect}"),
                                      "taints must be unique by key and effect pair"))
        seen.add((key, effect))
    return errs


def validate_endpoints(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("endpoints", obj)
    for i, subset in enumerate(dicts(obj.get("subsets"))):
        at = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.append(fe.required(at, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(dicts(subset.get(key))):
                errs += _endpoint_address(address, f"{at}.{key}[{j}]")
        ports = dicts(subset.get("ports"))
        for j, port in enumerate(ports):
            errs += _endpoint_port(port, f"{at}.ports[{j}]", len(ports) > 1)
    return _with_update(errs, obj, old)


def _endpoint_address(address: dict, path: str) -> list[FieldError]:
    ip = text(address.get("ip"))
    errs = check(f"{path}.ip", ip, names.ip_address)
    if not errs:
        errs += _special_ip(ip, f"{path}.ip")
    if text(address.get("hostname")):
        errs += check(f"{path}.hostname", address["hostname"], names.dns1123_label)
    if address.get("nodeName") is not None:
        errs += check(f"{path}.nodeName", text(address["nodeName"]), names.dns1123_subdomain)
    return errs


def _special_ip(ip: str, path: str) -> list[FieldError]:
    """Endpoints must be pod or node addresses, not loopback, link-local or unspecified."""
    address = ipaddress.ip_address(ip)
    reasons = []
    if address.is_unspecified:
        reasons.append(f"may not be unspecified ({ip})")
    if address.is_loopback:
        reasons.append("may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if address.is_link_local and not address.is_multicast:
        reasons.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if address in ipaddress.ip_network("224.0.0.0/24") or (
            address.version == 6 and address in ipaddress.ip_network("ff02::/16")):
        reasons.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
    return [fe.invalid(path, ip, reason) for reason in reasons]


def _endpoint_port(port: dict, path: str, require_name: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name = text(port.get("name"))
    if require_name and not name:
        errs.append(fe.required(f"{path}.name"))
    elif name:
        errs += check(f"{path}.name", name, names.dns1123_label)
    errs += port_number(f"{path}.port", port.get("port"))
    return errs + protocol(f"{path}.protocol", port.get("protocol"))


def validate_event(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("events", obj)
    involved = as_dict(obj.get("involvedObject"))
    if not involved:
        errs.append(fe.required("involvedObject"))
    namespace = text(as_dict(obj.get("metadata")).get("namespace"))
    involved_namespace = text(involved.get("namespace"))
    if involved and (namespace not in ("", "default") if not involved_namespace
                     else namespace != involved_namespace):
        errs.append(fe.invalid("involvedObject.namespace", involved_namespace,
                               "does not match event.namespace"))
    errs += enum("type", obj.get("type"), EVENT_TYPES)
    return _with_update(errs, obj, old)
