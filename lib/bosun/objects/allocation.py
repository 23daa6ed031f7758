"""Cluster IPs and node ports for services: choosing free ones and checking requested ones.

The API server knows which are taken (it reads the store); these functions only decide. Taken
sets must exclude the service being updated. Errors are the ones Kubernetes answers with: 422
`provided IP is already allocated` / `provided port is already allocated`, and a 500 when a
range is full.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable

from bosun.objects import fielderrors as fe
from bosun.objects.fielderrors import FieldError
from bosun.objects.status import InternalError, Invalid

NODE_PORT_RANGE = (30000, 32767)
_NEEDS_NODE_PORTS = ("NodePort", "LoadBalancer")


def _usable(cidr: str) -> tuple[int, int]:
    """First and last assignable address of a service range (IPv4 skips network and broadcast).

    Raises ValueError for a malformed range: a configuration error.
    """
    net = ipaddress.ip_network(cidr, strict=False)
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.num_addresses > 2:
        return first + 1, last - 1
    return (first + 1, last) if net.num_addresses > 1 else (first, last)


def _as_ints(addresses: Iterable[str]) -> set[int]:
    out = set()
    for address in addresses:
        try:
            out.add(int(ipaddress.ip_address(address)))
        except ValueError:
            continue
    return out


def allocate_cluster_ip(cidr: str, taken: set[str]) -> str:
    """The lowest free address of `cidr`. Raises InternalError when none is left."""
    first, last = _usable(cidr)
    used = _as_ints(taken)
    version = ipaddress.ip_network(cidr, strict=False).version
    for candidate in range(first, last + 1):
        if candidate not in used:
            return str(ipaddress.ip_address(candidate) if version == 4
                       else ipaddress.IPv6Address(candidate))
    raise InternalError("failed to allocate a serviceIP: range is full")


def allocate_node_port(taken: set[int], port_range: tuple[int, int] = NODE_PORT_RANGE) -> int:
    """The lowest free port of `port_range` (inclusive). Raises InternalError when none is left."""
    low, high = port_range
    for candidate in range(low, high + 1):
        if candidate not in taken:
            return candidate
    raise InternalError("failed to allocate a nodePort: range is full")


def _spec(service: dict) -> dict:
    spec = service.get("spec")
    return spec if isinstance(spec, dict) else {}


def _name(service: dict) -> str:
    meta = service.get("metadata")
    return str(meta.get("name") or "") if isinstance(meta, dict) else ""


def requested_cluster_ip_errors(service: dict, cidr: str, taken: set[str]) -> list[FieldError]:
    """Why the clusterIP the user asked for cannot be had (outside the range, or in use)."""
    spec = _spec(service)
    ip = spec.get("clusterIP")
    if not isinstance(ip, str) or ip in ("", "None") or len(_as_ints([ip])) == 0:
        return []
    first, last = _usable(cidr)
    value = fe.go_string_list(spec.get("clusterIPs") or [ip])
    number = next(iter(_as_ints([ip])))
    if not first <= number <= last:
        why = (f"the provided IP ({ip}) is not in the valid range. "
               f"The range of valid IPs is {cidr}")
    elif number in _as_ints(taken):
        why = "provided IP is already allocated"
    else:
        return []
    return [fe.invalid("spec.clusterIPs", value, f"failed to allocate IP {ip}: {why}")]


def requested_node_port_errors(service: dict, taken: set[int],
                               port_range: tuple[int, int] = NODE_PORT_RANGE) -> list[FieldError]:
    """Why the nodePorts the user asked for cannot be had (outside the range, or in use)."""
    low, high = port_range
    errs = []
    ports = _spec(service).get("ports")
    for i, port in enumerate(ports if isinstance(ports, list) else []):
        node_port = port.get("nodePort") if isinstance(port, dict) else None
        if not isinstance(node_port, int) or isinstance(node_port, bool) or not node_port:
            continue
        path = f"spec.ports[{i}].nodePort"
        if not low <= node_port <= high:
            errs.append(fe.invalid(path, node_port, "provided port is not in the valid range. "
                                   f"The range of valid ports is {low}-{high}"))
        elif node_port in taken:
            errs.append(fe.invalid(path, node_port, "provided port is already allocated"))
    return errs


def allocate_service(service: dict, cidr: str, taken_ips: set[str], taken_ports: set[int],
                     port_range: tuple[int, int] = NODE_PORT_RANGE) -> dict:
    """A copy of a defaulted `service` with its clusterIP and nodePorts filled in.

    Requested ones are kept after checking; missing ones are chosen. Ports with the same number
    and different protocols share one nodePort, as in Kubernetes. Raises Invalid for a requested
    address or port that cannot be had, InternalError when a range is full.
    """
    errs = (requested_cluster_ip_errors(service, cidr, taken_ips)
            + requested_node_port_errors(service, taken_ports, port_range))
    if errs:
        raise Invalid("Service", _name(service), errs)
    out = copy.deepcopy(service)
    spec = out.setdefault("spec", {})
    if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
        ip = allocate_cluster_ip(cidr, taken_ips)
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
    if spec.get("type") in _NEEDS_NODE_PORTS:
        _fill_node_ports(spec, set(taken_ports), port_range)
    return out


def _fill_node_ports(spec: dict, taken: set[int], port_range: tuple[int, int]) -> None:
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    by_number = {p.get("port"): p["nodePort"] for p in ports if p.get("nodePort")}
    taken |= set(by_number.values())
    for port in ports:
        if port.get("nodePort"):
            continue
        if port.get("port") not in by_number:
            by_number[port.get("port")] = allocate_node_port(taken, port_range)
            taken.add(by_number[port.get("port")])
        port["nodePort"] = by_number[port.get("port")]


def carry_allocations(old: dict, new: dict) -> None:
    """On update, keep the old clusterIP and nodePorts that `new` leaves empty (in place)."""
    old_spec, spec = _spec(old), new.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("type") != "ExternalName" and old_spec.get("type") != "ExternalName":
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = copy.deepcopy(old_spec.get("clusterIPs")
                                               or [old_spec["clusterIP"]])
    if spec.get("type") not in _NEEDS_NODE_PORTS or old_spec.get("type") not in _NEEDS_NODE_PORTS:
        return
    previous = {(p.get("port"), p.get("protocol")): p.get("nodePort")
                for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and not port.get("nodePort"):
            found = previous.get((port.get("port"), port.get("protocol")))
            if found:
                port["nodePort"] = found
