"""What the proxy reads from Services and Endpoints: the ports to proxy and the pods behind them.

Turns the API's plain v1 dicts into small frozen records, checking on the way every value that
will reach a config file (addresses parsed as IPv4, ports as integers in range), so that the
templates only ever see values that cannot break haproxy.cfg or the iptables rules. Whatever
cannot be proxied is reported as a line in `skipped`, for the caller to turn into an event.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Service types with a node port; Bosun has no cloud load balancer, so LoadBalancer is NodePort.
NODE_PORT_TYPES = frozenset({"NodePort", "LoadBalancer"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_./:@-]")
_COMMENT_MAX = 200  # xt_comment holds 255 bytes; haproxy has no limit but lines stay readable


@dataclass(frozen=True)
class ProxyMinion:
    """The minion a config is rendered for: its inventory name and its own (node) addresses.

    The addresses only label the rendered files: every haproxy frontend binds 0.0.0.0, which
    already covers them (see templates/haproxy.cfg.j2 for why). `taken_ports` are the TCP ports
    other processes on the minion listen on (not Bosun's haproxy): haproxy could not bind them,
    and a failed bind during a reload pauses the running haproxy's listeners. `proxy_mode` is
    the inventory's bosun_proxy_mode: "haproxy" or "iptables" (bosun.proxy.dnat).
    """

    name: str
    addresses: tuple[str, ...] = ()
    taken_ports: frozenset[int] = frozenset()
    proxy_mode: str = "haproxy"


@dataclass(frozen=True)
class ServicePort:
    """One TCP port of one service that the proxy carries: VIP:port (and node port) to pods."""

    namespace: str
    service: str
    port_name: str  # "" for the single unnamed port a service may have
    cluster_ip: str
    port: int
    node_port: int | None
    client_ip_affinity: bool

    @property
    def label(self) -> str:
        """The port as Kubernetes users name it: its name, or its number when unnamed."""
        return self.port_name or str(self.port)

    @property
    def key(self) -> str:
        """`namespace/service:port`: the identity local ports are allocated to."""
        return f"{self.namespace}/{self.service}:{self.label}"

    def order(self) -> tuple:
        """Sort key over every field, total even where node_port is None."""
        return (self.key, self.cluster_ip, self.port, self.node_port or 0,
                self.client_ip_affinity)


@dataclass(frozen=True, order=True)
class Server:
    """One ready endpoint of one service port: a pod's IP and target port."""

    ip: str
    port: int
    comment: str


def comment_text(text: str) -> str:
    """`text` made safe inside a config comment: no quotes, spaces, newlines; bounded length.

    Names reaching here are DNS-1123 already, but a comment that could end its line or its quotes
    would let one object's name inject config, so nothing else is trusted.
    """
    return _UNSAFE.sub("_", text)[:_COMMENT_MAX]


def proxied_ports(services: Iterable[Mapping[str, Any]]) -> tuple[list[ServicePort], list[str]]:
    """The TCP service ports to proxy, sorted and unique by key; and why others are not.

    Headless and ExternalName services are not proxied and are not reported: that is what they
    ask for. Ports that cannot be proxied (UDP, bad values) are reported.
    """
    found: dict[str, ServicePort] = {}
    skipped: list[str] = []
    for service in services:
        ports, why = _service_ports(service)
        skipped += why
        for port in ports:
            kept = found.get(port.key)
            if kept is not None and kept != port:
                skipped.append(f"{port.key}: listed twice; keeping one")
            if kept is None or port.order() < kept.order():
                found[port.key] = port
    result = _unique_node_ports(sorted(found.values(), key=ServicePort.order), skipped)
    return result, sorted(set(skipped))


def _service_ports(service: Mapping[str, Any]) -> tuple[list[ServicePort], list[str]]:
    meta, spec = _mapping(service.get("metadata")), _mapping(service.get("spec"))
    namespace, name = str(meta.get("namespace") or "default"), str(meta.get("name") or "")
    where = f"{namespace}/{name}"
    cluster_ip = spec.get("clusterIP")
    if not name:
        return [], ["a service without a name: not proxied"]
    if spec.get("type") == "ExternalName" or cluster_ip == "None" or not spec.get("ports"):
        return [], []
    if not cluster_ip:
        return [], [f"{where}: no clusterIP allocated yet; not proxied"]
    if _ipv4(cluster_ip) is None:
        return [], [f"{where}: clusterIP {cluster_ip!r} is not an IPv4 address; not proxied"]
    affinity = spec.get("sessionAffinity") == "ClientIP"
    node_ports = spec.get("type") in NODE_PORT_TYPES
    result, skipped = [], []
    for raw in spec.get("ports") if isinstance(spec.get("ports"), list) else []:
        port, why = _service_port(where, _mapping(raw), node_ports)
        skipped += why
        if port is not None:
            result.append(ServicePort(namespace, name, port[0], str(_ipv4(cluster_ip)), port[1],
                                      port[2], affinity))
    return result, skipped


def _service_port(where: str, raw: Mapping[str, Any],
                  node_ports: bool) -> tuple[tuple[str, int, int | None] | None, list[str]]:
    name, number = str(raw.get("name") or ""), raw.get("port")
    label = f"{where}:{name or number}"
    protocol = raw.get("protocol") or "TCP"
    if protocol != "TCP":
        return None, [f"{label}/{protocol}: Bosun's service proxy carries TCP only; not proxied"]
    if not _valid_port(number):
        return None, [f"{label}: port {number!r} is not in 1-65535; not proxied"]
    node_port = raw.get("nodePort") if node_ports else None
    if node_port is not None and not _valid_port(node_port):
        return (name, number, None), [f"{label}: nodePort {node_port!r} is not in 1-65535"]
    return (name, number, node_port), []


def _unique_node_ports(ports: list[ServicePort], skipped: list[str]) -> list[ServicePort]:
    """Two listeners on one node port would share its connections (SO_REUSEPORT): keep one."""
    owner: dict[int, str] = {}
    result = []
    for port in ports:
        if port.node_port is not None and port.node_port in owner:
            skipped.append(f"{port.key}: nodePort {port.node_port} is already "
                           f"{owner[port.node_port]}'s; only its clusterIP is proxied")
            port = ServicePort(port.namespace, port.service, port.port_name, port.cluster_ip,
                               port.port, None, port.client_ip_affinity)
        elif port.node_port is not None:
            owner[port.node_port] = port.key
        result.append(port)
    return result


def ready_servers(endpoints: Iterable[Mapping[str, Any]]
                  ) -> tuple[dict[tuple[str, str, str], list[Server]], list[str]]:
    """Ready pods per (namespace, service, port name), sorted; and endpoints not usable.

    As in Kubernetes, a service port finds its endpoints by port *name*: the endpoints controller
    has already resolved each pod's (possibly named) targetPort into the endpoint port's number.
    notReadyAddresses are left out: those pods must not get traffic.
    """
    found: dict[tuple[str, str, str], dict[tuple[int, int], Server]] = {}
    skipped: list[str] = []
    for item in endpoints:
        meta = _mapping(item.get("metadata"))
        service = (str(meta.get("namespace") or "default"), str(meta.get("name") or ""))
        for subset in _list(item.get("subsets")):
            for (port_name, server), why in _subset_servers(service, _mapping(subset)):
                skipped += why
                if server is None:
                    continue
                slot = found.setdefault((*service, port_name), {})
                order = (int(ipaddress.IPv4Address(server.ip)), server.port)
                slot[order] = min(server, slot.get(order, server))
    servers = {key: [slot[k] for k in sorted(slot)] for key, slot in found.items()}
    return servers, sorted(set(skipped))


def _subset_servers(service: tuple[str, str], subset: Mapping[str, Any]):
    where = "/".join(service)
    for raw_port in _list(subset.get("ports")):
        port = _mapping(raw_port)
        name, number = str(port.get("name") or ""), port.get("port")
        if not _valid_port(number):
            yield (name, None), [f"{where}: endpoint port {number!r} is not in 1-65535"]
            continue
        for raw_address in _list(subset.get("addresses")):
            address = _mapping(raw_address)
            ip = _ipv4(address.get("ip"))
            if ip is None:
                yield (name, None), [f"{where}: endpoint address {address.get('ip')!r} "
                                     "is not an IPv4 address"]
                continue
            yield (name, Server(str(ip), number, _server_comment(address))), []


def _server_comment(address: Mapping[str, Any]) -> str:
    ref = _mapping(address.get("targetRef"))
    pod = "/".join(str(ref[k]) for k in ("namespace", "name") if ref.get(k))
    node = address.get("nodeName")
    words = [f"pod {comment_text(pod)}" if pod else "",
             f"on {comment_text(str(node))}" if node else ""]
    return " ".join(w for w in words if w)


def _ipv4(value: Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _valid_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
