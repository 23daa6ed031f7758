"""The service proxy's pure half: what one minion's haproxy.cfg and iptables rules should be.

From the cluster's Services and Endpoints, `render` produces the whole haproxy.cfg and the
`iptables-restore --noflush` input for Bosun's own nat chain, byte-identical for the same cluster;
`plan` compares them with what the minion has and says what to do: a restart of haproxy for a
new config, or only new servers through its runtime API when just the pods behind it changed.
Nothing here touches a host: the executor (upload, validate, swap, reload, runtime commands)
lives with the code that owns the SSH door.
"""

from bosun.proxy.haproxy import read_local_ports, render_haproxy
from bosun.proxy.iptables import HookRule, hook_rules, render_iptables, unhook_rules
from bosun.proxy.model import ProxyMinion
from bosun.proxy.plan import (
    Action,
    ApplyIptables,
    HookChains,
    InstallHaproxy,
    StartHaproxy,
    UpdateServers,
    WriteHaproxyCfg,
    plan,
)
from bosun.proxy.ports import LOCAL_PORT_RANGE, allocate_local_ports
from bosun.proxy.render import ProxyConfig, render

__all__ = [
    "LOCAL_PORT_RANGE",
    "Action",
    "ApplyIptables",
    "HookChains",
    "HookRule",
    "ProxyConfig",
    "ProxyMinion",
    "InstallHaproxy",
    "StartHaproxy",
    "UpdateServers",
    "WriteHaproxyCfg",
    "allocate_local_ports",
    "hook_rules",
    "plan",
    "read_local_ports",
    "render",
    "render_haproxy",
    "render_iptables",
    "unhook_rules",
]
