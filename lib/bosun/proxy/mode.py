"""Which proxy a minion runs (`bosun_proxy_mode`), and the move from one mode to the other.

`render_minion` renders haproxy mode's ProxyConfig (bosun.proxy.render) or iptables mode's
DnatConfig (bosun.proxy.dnat) by the minion's mode; `plan_minion` plans either against what the
minion has, including what the other mode left there: in iptables mode haproxy is stopped and
its config removed; in haproxy mode iptables mode's chains and their hooks are removed. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bosun.proxy.dnat import dnat_hooks, dnat_text, service_chains
from bosun.proxy.iptables import CHAIN
from bosun.proxy.model import ProxyMinion, proxied_ports, ready_servers
from bosun.proxy.plan import Action, ApplyIptables, HookChains, plan
from bosun.proxy.render import ProxyConfig, render, without_taken_node_ports
from bosun.proxy.saved import bosun_chains, removal_argv, table_lines, with_chains_deleted

IPTABLES_MODE = "iptables"


@dataclass(frozen=True)
class DnatConfig:
    """What a minion in iptables mode should have. Equal input gives equal text."""

    iptables: str
    skipped: list[str]  # what is not proxied and why, sorted: for the caller to report


@dataclass(frozen=True)
class StopHaproxy:
    """The minion left haproxy mode: soft-stop the haproxy of PIDFILE (SIGUSR1: it stops
    listening and lets open connections finish, for at most its hard-stop-after), then remove
    HAPROXY_CFG, PIDFILE and its admin socket, so nothing restarts it or talks to it and a later
    haproxy mode starts afresh."""


@dataclass(frozen=True)
class RemoveChains:
    """Run each argv (`iptables -D/-F/-X`): the other mode's chains and the jumps into them."""

    argv: tuple[tuple[str, ...], ...]


MinionAction = Action | StopHaproxy | RemoveChains


def render_minion(services: Iterable[Mapping[str, Any]], endpoints: Iterable[Mapping[str, Any]],
                  minion: ProxyMinion, previous_ports: Mapping[str, int] | None = None
                  ) -> ProxyConfig | DnatConfig:
    """The minion's config in its mode; see render (haproxy) and render_dnat (iptables)."""
    if minion.proxy_mode != IPTABLES_MODE:
        return render(services, endpoints, minion, previous_ports)
    ports, skipped = proxied_ports(services)
    ports, squatted = without_taken_node_ports(ports, minion)
    servers, unusable = ready_servers(endpoints)
    return DnatConfig(dnat_text(minion, service_chains(ports, servers)),
                      sorted({*skipped, *squatted, *unusable}))


def plan_minion(rendered: ProxyConfig | DnatConfig, current_haproxy: str | None,
                current_iptables: str | None, *, haproxy_running: bool,
                running_servers: Mapping[str, Mapping[str, bool]] | None = None
                ) -> list[MinionAction]:
    """The actions that bring a minion from what it has to `rendered`, in either mode.

    `current_iptables` is `iptables-save` of the nat and filter tables (None: unknown, so
    everything is applied); `running_servers` the running haproxy's (see plan). Nothing is done
    when all is in place.
    """
    if isinstance(rendered, ProxyConfig):
        actions: list[MinionAction] = [*plan(rendered, current_haproxy, current_iptables,
                                             haproxy_running=haproxy_running,
                                             running_servers=running_servers)]
        # After ApplyIptables: BOSUN-SERVICES no longer jumps into iptables mode's chains.
        left = removal_argv(current_iptables or "", keep=[("nat", CHAIN)])
        return actions + ([RemoveChains(tuple(map(tuple, left)))] if left else [])
    return plan_dnat(rendered, current_haproxy, current_iptables,
                     haproxy_running=haproxy_running)


def plan_dnat(rendered: DnatConfig, current_haproxy: str | None, current_iptables: str | None,
              *, haproxy_running: bool) -> list[MinionAction]:
    """iptables mode: the rules (removing chains of services and endpoints that are gone in
    the same restore), then the missing hooks, then haproxy out of the way. The rules go first
    so that a VIP's traffic moves from haproxy to DNAT before haproxy stops listening."""
    actions: list[MinionAction] = []
    wanted = bosun_chains(rendered.iptables)
    have = bosun_chains(current_iptables or "")
    if current_iptables is None or have != wanted:
        stale = [chain for chain in have if chain not in wanted]
        actions.append(ApplyIptables(with_chains_deleted(rendered.iptables, stale)))
    present = set(table_lines(current_iptables or ""))
    missing = [hook for hook in dnat_hooks() if (hook.table, hook.saved()) not in present]
    if missing:
        actions.append(HookChains(tuple(missing)))
    if haproxy_running or current_haproxy is not None:
        actions.append(StopHaproxy())
    return actions

