"""iptables rules for one minion: Bosun's own nat chain sending service VIPs to haproxy.

`render_iptables` writes the chain as one `iptables-restore --noflush` input, in the very form
`iptables-save` prints it back, so that `saved_rules` of the minion's `iptables-save -t nat`
compares equal to the rendered rules once applied. The jumps into the chain from PREROUTING
(containers' traffic) and OUTPUT (the minion's own) are `hook_rules`, added check-then-insert.
All iptables command lines are built here, as argv lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bosun.proxy.model import ProxyMinion, ServicePort, comment_text, proxied_ports
from bosun.proxy.saved import iptables_argv, removal_argv, table_lines
from bosun.proxy.templates import render_template

CHAIN = "BOSUN-SERVICES"
HOOK_COMMENT = "bosun-services"
HOOKED_FROM = ("PREROUTING", "OUTPUT")
TEMPLATE = "iptables-nat.rules.j2"


@dataclass(frozen=True)
class Redirect:
    """One rule: TCP to cluster_ip:port goes to local_port on the minion."""

    cluster_ip: str
    port: int
    comment: str
    local_port: int


@dataclass(frozen=True)
class HookRule:
    """A jump from a built-in chain of `table` into one of Bosun's (nat: BOSUN-SERVICES).

    The applier runs `check_argv()`: exit status 0 means the rule is there, 1 that it is missing
    (then it runs `insert_argv()`), anything else an error (2: Bosun's chain does not exist).
    Inserted first, so no other rule can rewrite a VIP's packets before ours.
    """

    chain: str
    spec: tuple[str, ...] = ("-m", "comment", "--comment", HOOK_COMMENT, "-j", CHAIN)
    table: str = "nat"

    def check_argv(self) -> list[str]:
        return [*iptables_argv(self.table), "-C", self.chain, *self.spec]

    def insert_argv(self) -> list[str]:
        return [*iptables_argv(self.table), "-I", self.chain, "1", *self.spec]

    def delete_argv(self) -> list[str]:
        return [*iptables_argv(self.table), "-D", self.chain, *self.spec]

    def saved(self) -> tuple[str, ...]:
        """The rule as `iptables-save` lists it, split into words."""
        return ("-A", self.chain, *self.spec)


def render_iptables(services: Iterable[Mapping[str, Any]], minion: ProxyMinion,
                    local_ports: Mapping[str, int]) -> str:
    """`iptables-restore --noflush` input replacing Bosun's chain with this cluster's redirects.

    A service port missing from `local_ports` (`namespace/service:port` -> local port) gets no
    rule. Raises jinja2.TemplateError if the template is broken.
    """
    ports, _ = proxied_ports(services)
    return iptables_text(minion, redirects(ports, local_ports))


def redirects(ports: Sequence[ServicePort], local_ports: Mapping[str, int]) -> list[Redirect]:
    """A rule for each service port that has a local port, in key order."""
    return [Redirect(p.cluster_ip, p.port, comment_text(p.key), local_ports[p.key])
            for p in sorted(ports, key=ServicePort.order) if p.key in local_ports]


def iptables_text(minion: ProxyMinion, rules: Sequence[Redirect]) -> str:
    """The template rendered around `rules`."""
    return render_template(TEMPLATE, minion=comment_text(minion.name), chain=CHAIN, rules=rules)


def hook_rules() -> list[HookRule]:
    """The jumps into Bosun's chain; add them after the chain exists (ApplyIptables)."""
    return [HookRule(chain) for chain in HOOKED_FROM]


def unhook_rules(current_iptables: str) -> list[list[str]]:
    """argv lists removing all of Bosun from the nat and filter tables `iptables-save` printed.

    Every jump into one of Bosun's `BOSUN-*` chains of either proxy mode (duplicates too), then
    the chains: each must succeed, and [] means nothing of Bosun's is left. Built from what is
    there because iptables' exit codes for "already gone" differ (1 for a missing rule, 2 once
    the chain itself is gone).
    """
    return removal_argv(current_iptables)


def restore_argv(test: bool = False) -> list[str]:
    """Load rules from stdin into the named chains only (--noflush); `test`: parse, load nothing."""
    return ["iptables-restore", "-w", "--noflush", *(["--test"] if test else [])]


def save_argv() -> list[str]:
    """Print the nat table, the observed state `plan` compares with."""
    return ["iptables-save", "-t", "nat"]


def saved_rules(text: str) -> list[tuple[str, ...]]:
    """Bosun's chain in `text` (iptables-save or rendered), as word lists: declaration, rules.

    Quoting and counters do not matter, order does. An empty list means the chain is absent.
    """
    return [words for words in _nat_lines(text)
            if words[0] == f":{CHAIN}" or words[:2] == ("-A", CHAIN)]


def missing_hooks(text: str | None) -> list[HookRule]:
    """The hook rules `text` (iptables-save of the nat table) lacks; all of them for None."""
    present = set(_nat_lines(text or ""))
    return [rule for rule in hook_rules() if rule.saved() not in present]


def _nat_lines(text: str) -> list[tuple[str, ...]]:
    return [words for table, words in table_lines(text) if table == "nat"]
