"""iptables mode (`bosun_proxy_mode: iptables`): one minion's services forwarded by the kernel.

As kube-proxy's iptables mode, in Bosun's own chains: `BOSUN-SERVICES` (nat, hooked from
PREROUTING and OUTPUT as in haproxy mode) jumps for each service VIP:port, then each node port,
to the port's `BOSUN-SVC-*` chain; that one picks an endpoint (the client's last one within
3 hours with ClientIP affinity, else at random, each pod equally likely) and jumps to the
endpoint's `BOSUN-SEP-*` chain, which DNATs to the pod. A service port without a ready pod is
refused with a TCP reset from `BOSUN-NO-ENDPOINTS` (filter; hooked from INPUT, OUTPUT, FORWARD).

Masquerading (`BOSUN-POSTROUTING`, hooked from nat POSTROUTING, for connections marked 0x8000 in
conntrack, a bit neither Docker nor the lab uses) is only for what needs it, as measured in the
lab: a node port (its client may be off-cluster, and the pod's reply must come back through this
minion) and a pod reaching itself through its service (hairpin). Docker's FORWARD policy is DROP,
so `BOSUN-FORWARD` (filter, hooked from FORWARD) accepts those connections both ways: the reply
of a node port's pod on another minion is forwarded back to the client. A pod reaching another
pod on its own Docker bridge through a VIP needs no masquerade: Docker turns on br_netfilter
(net.bridge.bridge-nf-call-iptables=1), so the bridged reply is un-DNATed. The minion's own
connections to a VIP leave from its address (the service range is routed to its uplink).

`dnat_text` is pure and writes the whole `iptables-restore --noflush` input (bosun.proxy.mode's
`render_minion` calls it), each rule as `iptables-save` prints it, so `bosun_chains` of the two
compare equal once applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bosun.proxy.iptables import CHAIN, HookRule
from bosun.proxy.model import ProxyMinion, Server, ServicePort, comment_text
from bosun.proxy.templates import render_template

TEMPLATE = "iptables-dnat.rules.j2"
POSTROUTING_CHAIN = "BOSUN-POSTROUTING"
MARK_CHAIN = "BOSUN-MARK-MASQ"
NO_ENDPOINTS_CHAIN = "BOSUN-NO-ENDPOINTS"
FORWARD_CHAIN = "BOSUN-FORWARD"
# A connmark (kept by conntrack for every packet of the connection, both ways), not a packet
# mark: only a connection's first packet passes the nat table. kube-proxy's bit is 0x4000;
# Docker sets no mark at all.
MASQUERADE_MARK = "0x8000/0x8000"
AFFINITY_SECONDS = 10800  # Kubernetes' default ClientIP affinity timeout, 3 hours
# The chains every render declares, whatever the services: the hooks jump into them.
FIXED_CHAINS = (("nat", CHAIN), ("nat", POSTROUTING_CHAIN), ("nat", MARK_CHAIN),
                ("filter", NO_ENDPOINTS_CHAIN), ("filter", FORWARD_CHAIN))


@dataclass(frozen=True)
class Endpoint:
    """One ready pod of one service port: its chain, where it DNATs to, and how likely it is
    picked among the endpoints not tried before it (None: the last, taken unconditionally)."""

    chain: str
    ip: str
    port: int
    probability: str | None


@dataclass(frozen=True)
class ServiceChain:
    """One service port: its VIP, node port, affinity and endpoints; every value checked."""

    chain: str
    comment: str
    cluster_ip: str
    port: int
    node_port: int | None
    affinity: bool
    endpoints: tuple[Endpoint, ...]


def service_chains(ports: Sequence[ServicePort],
                   servers: Mapping[tuple[str, str, str], Sequence[Server]]) -> list[ServiceChain]:
    """A chain for each service port, in key order, its endpoints in address order."""
    result = []
    for port in sorted(ports, key=ServicePort.order):
        behind = servers.get((port.namespace, port.service, port.port_name), ())
        endpoints = tuple(
            Endpoint(chain_name("SEP", f"{port.key} {s.ip}:{s.port}"), s.ip, s.port,
                     probability(len(behind) - i) if i < len(behind) - 1 else None)
            for i, s in enumerate(behind))
        result.append(ServiceChain(chain_name("SVC", port.key), comment_text(port.key),
                                   port.cluster_ip, port.port, port.node_port,
                                   port.client_ip_affinity, endpoints))
    return result


def dnat_text(minion: ProxyMinion, services: Sequence[ServiceChain]) -> str:
    """The template rendered around `services`."""
    return render_template(
        TEMPLATE, minion=comment_text(minion.name), services=services, services_chain=CHAIN,
        postrouting_chain=POSTROUTING_CHAIN, mark_chain=MARK_CHAIN,
        no_endpoints_chain=NO_ENDPOINTS_CHAIN, forward_chain=FORWARD_CHAIN, mark=MASQUERADE_MARK,
        masquerade_comment="bosun: node ports and pods reaching themselves",
        affinity_seconds=AFFINITY_SECONDS)


def chain_name(kind: str, identity: str) -> str:
    """`BOSUN-SVC-` or `BOSUN-SEP-` and 16 hex digits of sha256(identity): stable across runs
    and machines, 26 characters (iptables allows 28), and any name is safe in it."""
    return f"BOSUN-{kind}-{hashlib.sha256(identity.encode()).hexdigest()[:16].upper()}"


def probability(remaining: int) -> str:
    """1/remaining as `iptables-save` prints it back: the kernel keeps round(p * 2^31) and
    the statistic match prints that over 2^31 with 11 decimals (1/3: 0.33333333349)."""
    return f"{round(2**31 / remaining) / 2**31:.11f}"


def dnat_hooks() -> list[HookRule]:
    """The jumps into iptables mode's chains from the built-in ones, nat's two first."""
    def comment(text: str, target: str) -> tuple[str, ...]:
        return ("-m", "comment", "--comment", text, "-j", target)
    return [HookRule("PREROUTING"), HookRule("OUTPUT"),
            HookRule("POSTROUTING", comment("bosun-postrouting", POSTROUTING_CHAIN)),
            *(HookRule(builtin, comment("bosun-no-endpoints", NO_ENDPOINTS_CHAIN), "filter")
              for builtin in ("INPUT", "OUTPUT", "FORWARD")),
            HookRule("FORWARD", comment("bosun-forward", FORWARD_CHAIN), "filter")]
