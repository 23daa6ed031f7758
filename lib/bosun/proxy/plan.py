"""What to do on one minion to make its proxy match the rendered configuration.

Pure: `plan` compares a `ProxyConfig` with what was observed on the minion (its haproxy.cfg,
`iptables-save -t nat`, whether haproxy runs) and returns actions, none when all is in place.
The executor carries them out in order, and stops at the first that fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from bosun.proxy.iptables import HookRule, missing_hooks, saved_rules
from bosun.proxy.render import ProxyConfig


@dataclass(frozen=True)
class WriteHaproxy:
    """Upload `text` to a temp file, validate it (`haproxy -c`), rename it over HAPROXY_CFG."""

    text: str


@dataclass(frozen=True)
class StartHaproxy:
    """Start haproxy on HAPROXY_CFG: it is not running."""


@dataclass(frozen=True)
class ReloadHaproxy:
    """Start a new haproxy on HAPROXY_CFG taking over from the running one (-sf)."""


@dataclass(frozen=True)
class ApplyIptables:
    """Validate `text` (`iptables-restore --test --noflush`), then load it (--noflush)."""

    text: str


@dataclass(frozen=True)
class HookChains:
    """Add each missing jump into Bosun's chain (check first: another run may have added it)."""

    rules: tuple[HookRule, ...]


Action = WriteHaproxy | StartHaproxy | ReloadHaproxy | ApplyIptables | HookChains


def plan(rendered: ProxyConfig, current_haproxy: str | None, current_iptables: str | None, *,
         haproxy_running: bool) -> list[Action]:
    """The actions that bring a minion from what it has to `rendered`.

    `current_haproxy` is the minion's haproxy.cfg (None: there is none), `current_iptables` its
    `iptables-save -t nat` output (None: unknown, so everything is applied). haproxy goes first:
    a new local port must listen before iptables sends a VIP's traffic to it, and the chain must
    exist before anything jumps to it.
    """
    actions: list[Action] = []
    haproxy_changed = current_haproxy != rendered.haproxy
    if haproxy_changed:
        actions.append(WriteHaproxy(rendered.haproxy))
    if not haproxy_running:
        actions.append(StartHaproxy())
    elif haproxy_changed:
        actions.append(ReloadHaproxy())
    if current_iptables is None or saved_rules(current_iptables) != saved_rules(rendered.iptables):
        actions.append(ApplyIptables(rendered.iptables))
    if missing := missing_hooks(current_iptables):
        actions.append(HookChains(tuple(missing)))
    return actions
