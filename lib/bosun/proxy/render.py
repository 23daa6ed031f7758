"""One minion's whole proxy configuration from the cluster's Services and Endpoints.

`render` is the entry point the proxy loop calls per minion: it reads the services and
endpoints once, allocates the local ports, and renders haproxy.cfg and the iptables rules from
the same listeners, so the two files always agree on every local port.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bosun.proxy.haproxy import haproxy_text, listeners
from bosun.proxy.iptables import iptables_text, redirects
from bosun.proxy.model import ProxyMinion, ServicePort, proxied_ports, ready_servers
from bosun.proxy.ports import local_ports_for


@dataclass(frozen=True)
class ProxyConfig:
    """What one minion should run. Equal input gives equal text, byte for byte."""

    haproxy: str
    iptables: str
    local_ports: dict[str, int]  # namespace/service:port -> local port of its haproxy listener
    skipped: list[str]  # what is not proxied and why, sorted: for the caller to report as events


def render(services: Iterable[Mapping[str, Any]], endpoints: Iterable[Mapping[str, Any]],
           minion: ProxyMinion, previous_ports: Mapping[str, int] | None = None) -> ProxyConfig:
    """haproxy.cfg and iptables rules for `minion`; the order of the inputs does not matter.

    `previous_ports` (from `read_local_ports` of the minion's current haproxy.cfg) keeps each
    service port on the local port it already has. Raises jinja2.TemplateError if a template is
    broken; nothing in the objects themselves makes it raise: what cannot be proxied is skipped.
    """
    ports, skipped = proxied_ports(services)
    ports, squatted = without_taken_node_ports(ports, minion)
    servers, unusable = ready_servers(endpoints)
    local_ports = local_ports_for(ports, previous_ports, taken=minion.taken_ports)
    full = [f"{p.key}: no free local port in the proxy's range; not proxied"
            for p in ports if p.key not in local_ports]
    return ProxyConfig(
        haproxy=haproxy_text(minion, listeners(ports, servers, local_ports)),
        iptables=iptables_text(minion, redirects(ports, local_ports)),
        local_ports=local_ports,
        skipped=sorted({*skipped, *squatted, *unusable, *full}),
    )


def without_taken_node_ports(ports: list[ServicePort],
                              minion: ProxyMinion) -> tuple[list[ServicePort], list[str]]:
    """Service ports whose node port another process holds on this minion keep their cluster IP
    but lose the node port here (as kube-proxy skips a node port it cannot open)."""
    kept, why = [], []
    for port in ports:
        if port.node_port is not None and port.node_port in minion.taken_ports:
            why.append(f"{port.key}: nodePort {port.node_port} is taken on {minion.name} by "
                       f"another process; the node port is not served there")
            port = dataclasses.replace(port, node_port=None)
        kept.append(port)
    return kept, why
