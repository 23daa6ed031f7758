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
class InstallHaproxy:
    """Upload `text` to a temp file and start haproxy on it, taking over from the running one
    (-sf) if there is one; once it runs, rename the file over HAPROXY_CFG.

    Starting is the validation (haproxy checks the config as `-c` does, and binds every port,
    which `-c` does not): a config it refuses never serves, the old haproxy keeps serving, and
    HAPROXY_CFG keeps the config that runs. One haproxy start per change, not two.
    """

    text: str


@dataclass(frozen=True)
class StartHaproxy:
    """Start haproxy on HAPROXY_CFG, which is as rendered: haproxy is not running."""


@dataclass(frozen=True)
class ApplyIptables:
    """Validate `text` (`iptables-restore --test --noflush`), then load it (--noflush)."""

    text: str


@dataclass(frozen=True)
class HookChains:
    """Add each missing jump into Bosun's chain (check first: another run may have added it)."""

    rules: tuple[HookRule, ...]


Action = InstallHaproxy | StartHaproxy | ApplyIptables | HookChains


def plan(rendered: ProxyConfig, current_haproxy: str | None, current_iptables: str | None, *,
         haproxy_running: bool) -> list[Action]:
    """The actions that bring a minion from what it has to `rendered`.

    `current_haproxy` is the minion's haproxy.cfg (None: there is none), `current_iptables` its
    `iptables-save -t nat` output (None: unknown, so everything is applied). haproxy goes first:
    a new local port must listen before iptables sends a VIP's traffic to it, and the chain must
    exist before anything jumps to it.
    """
    actions: list[Action] = []
    if current_haproxy != rendered.haproxy:
        actions.append(InstallHaproxy(rendered.haproxy))
    elif not haproxy_running:
        actions.append(StartHaproxy())
    if current_iptables is None or saved_rules(current_iptables) != saved_rules(rendered.iptables):
        actions.append(ApplyIptables(rendered.iptables))
    if missing := missing_hooks(current_iptables):
        actions.append(HookChains(tuple(missing)))
    return actions
