"""What to do on one minion to make its proxy match the rendered configuration.

Pure: `plan` compares a `ProxyConfig` with what was observed on the minion (its haproxy.cfg,
`iptables-save -t nat`, whether haproxy runs and which servers it has) and returns actions, none
when all is in place. The executor carries them out in order, and stops at the first that fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bosun.proxy.haproxy import config_servers, server_commands, without_servers
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
class UpdateServers:
    """Only the pods behind listeners changed: send `commands` to the running haproxy's runtime
    API (no restart, no connection lost), then write `text` to HAPROXY_CFG for the next start.

    If haproxy refuses a command, the executor installs `text` as InstallHaproxy does instead.
    """

    commands: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class WriteHaproxyCfg:
    """The running haproxy already serves as rendered; HAPROXY_CFG differs (a server's comment,
    or a write that did not happen): write `text` to it, nothing else."""

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


Action = (InstallHaproxy | UpdateServers | WriteHaproxyCfg | StartHaproxy | ApplyIptables
          | HookChains)


def plan(rendered: ProxyConfig, current_haproxy: str | None, current_iptables: str | None, *,
         haproxy_running: bool,
         running_servers: Mapping[str, Mapping[str, bool]] | None = None) -> list[Action]:
    """The actions that bring a minion from what it has to `rendered`.

    `current_haproxy` is the minion's haproxy.cfg (None: there is none), `current_iptables` its
    `iptables-save -t nat` output (None: unknown, so everything is applied), `running_servers`
    the running haproxy's servers (`read_servers_state`; None: unknown, so any change to the
    config restarts haproxy). haproxy goes first: a new local port must listen before iptables
    sends a VIP's traffic to it, and the chain must exist before anything jumps to it.
    """
    actions: list[Action] = []
    if not haproxy_running:
        actions.append(StartHaproxy() if current_haproxy == rendered.haproxy
                       else InstallHaproxy(rendered.haproxy))
    else:
        actions += _haproxy_changes(rendered.haproxy, current_haproxy, running_servers)
    if current_iptables is None or saved_rules(current_iptables) != saved_rules(rendered.iptables):
        actions.append(ApplyIptables(rendered.iptables))
    if missing := missing_hooks(current_iptables):
        actions.append(HookChains(tuple(missing)))
    return actions


def _haproxy_changes(rendered: str, current: str | None,
                     running: Mapping[str, Mapping[str, bool]] | None) -> list[Action]:
    """For a running haproxy: nothing, new servers through the runtime API, or a restart.

    The runtime API serves when the listeners are the same (the config differs at most in server
    lines: haproxy.cfg is what runs, it is rewritten only after haproxy took the change); a new
    or removed listener, a changed bind or balance, or servers that cannot be read (no socat)
    need a restart.
    """
    if running is None:
        return [] if current == rendered else [InstallHaproxy(rendered)]
    if current is None or without_servers(current) != without_servers(rendered):
        return [InstallHaproxy(rendered)]
    commands = server_commands(running, config_servers(rendered))
    if commands:
        return [UpdateServers(tuple(commands), rendered)]
    return [] if current == rendered else [WriteHaproxyCfg(rendered)]
