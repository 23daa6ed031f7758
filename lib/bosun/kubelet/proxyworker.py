"""The service proxy on one minion: haproxy.cfg and Bosun's iptables chain, kept as rendered.

Observe (one SSH exec reads haproxy.cfg, `iptables-save -t nat` and whether haproxy runs),
render (bosun.proxy, pure), plan (pure), act: a changed config is uploaded to a temp file, a new
haproxy is started on it taking over gracefully from the running one (-sf), and only once it runs
is the file renamed into place; rules are checked with `iptables-restore --test` and loaded with
--noflush into Bosun's chain only. Anything that fails is not installed: the old config keeps
serving and a Warning event says why. A minion in iptables mode (bosun.proxy.mode) has no haproxy:
only its rules are loaded, the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from bosun.errors import BosunError
from bosun.events import EventRecorder
from bosun.minion import Minion
from bosun.proxy.haproxy import (
    HAPROXY_CFG,
    PIDFILE,
    haproxy_ports,
    listening_ports,
    read_local_ports,
    reload_argv,
    start_argv,
)
from bosun.proxy.iptables import restore_argv
from bosun.proxy.mode import DnatConfig, RemoveChains, StopHaproxy, plan_minion, render_minion
from bosun.proxy.model import ProxyMinion
from bosun.proxy.plan import ApplyIptables, HookChains, InstallHaproxy, StartHaproxy
from bosun.proxy.render import ProxyConfig

SEPARATOR = "----bosun-proxy-observe----"
# Fixed text: no value from any object reaches this script.
OBSERVE_SCRIPT = (
    f"cat {HAPROXY_CFG} 2>/dev/null; echo {SEPARATOR}; "
    f"iptables-save -t nat; iptables-save -t filter; echo {SEPARATOR}; "
    f"if [ -s {PIDFILE} ] && kill -0 $(cat {PIDFILE}) 2>/dev/null; "
    f"then cat {PIDFILE}; fi; echo {SEPARATOR}; "
    "ss -Htln 2>/dev/null"
)
STAGED = f"{HAPROXY_CFG}.bosun-new"


class ProxyRefused(BosunError):
    """A rendered config failed validation on the minion; the old one stays."""


class ProxyWorker:
    def __init__(self, minion: Minion, recorder: EventRecorder,
                 node: Callable[[], dict], proxy_mode: str = "haproxy") -> None:
        self.minion = minion
        self.proxy_mode = proxy_mode  # the inventory's bosun_proxy_mode
        self.recorder = recorder
        self.node = node  # () -> the Node object, for events
        self.last_skipped: list[str] = []

    def observe(self) -> tuple[str | None, str, list[int], frozenset[int]]:
        """(haproxy.cfg or None, iptables-save -t nat, pids of the running haproxy, TCP ports
        other processes listen on)."""
        out = self.minion.check(["sh", "-c", OBSERVE_SCRIPT]).text
        config, iptables, pids, listening = out.split(SEPARATOR + "\n")
        ours = haproxy_ports(config) if pids.split() else set()
        return ((config or None), iptables, [int(p) for p in pids.split()],
                frozenset(listening_ports(listening) - ours))

    def sync(self, services: list[dict], endpoints: list[dict]) -> list:
        """One pass; returns the actions carried out. Raises ProxyRefused (after an event) when
        the minion rejected the config, MinionUnreachable when it cannot be reached."""
        config, iptables, pids, taken = self.observe()
        minion = ProxyMinion(self.minion.name, taken_ports=taken, proxy_mode=self.proxy_mode)
        rendered = render_minion(services, endpoints, minion,
                                 read_local_ports(config) if config else None)
        self._report_skipped(rendered)
        actions = plan_minion(rendered, config, iptables, haproxy_running=bool(pids))
        for action in actions:
            self.apply(action, pids)
        return actions

    def _report_skipped(self, rendered: ProxyConfig | DnatConfig) -> None:
        if rendered.skipped and rendered.skipped != self.last_skipped:
            self.recorder.warning(self.node(), "ProxySkipped", "; ".join(rendered.skipped))
        self.last_skipped = list(rendered.skipped)

    def apply(self, action, pids: list[int]) -> None:
        """Carry out one planned action; `pids` of the running haproxy. Raises ProxyRefused
        (after a FailedProxyConfig event) when the minion refused it."""
        if isinstance(action, InstallHaproxy):
            self.minion.check(["mkdir", "-p", HAPROXY_CFG.rsplit("/", 1)[0]])
            self.minion.upload(STAGED, action.text.encode(), 0o644)
            start = reload_argv(pids, STAGED) if pids else start_argv(STAGED)
            self._validated(start, None, "haproxy refused to start on the new haproxy.cfg",
                            cleanup=["rm", "-f", STAGED])
            self.minion.check(["mv", "-f", STAGED, HAPROXY_CFG])
        elif isinstance(action, StartHaproxy):
            self.minion.check(start_argv())
        elif isinstance(action, ApplyIptables):
            text = action.text.encode()
            self._validated(restore_argv(test=True), text,
                            "iptables-restore --test refused Bosun's service rules")
            self.minion.check(restore_argv(), stdin=text)
        elif isinstance(action, HookChains):
            for rule in action.rules:
                if self.minion.run(rule.check_argv()).exit_code == 1:
                    self.minion.check(rule.insert_argv())
        elif isinstance(action, StopHaproxy):
            if pids:
                self.minion.check(["kill", "-USR1", *(str(pid) for pid in pids)])
            self.minion.check(["rm", "-f", HAPROXY_CFG, PIDFILE])
        elif isinstance(action, RemoveChains):
            for argv in action.argv:
                self.minion.check(list(argv))

    def _validated(self, argv: list[str], stdin: bytes | None, what: str,
                   cleanup: list[str] | None = None) -> None:
        done = self.minion.run(argv, stdin=stdin)
        if done.exit_code != 0:
            if cleanup:
                self.minion.run(cleanup)
            why = done.stderr.decode(errors="replace").strip()[-500:]
            self.recorder.warning(self.node(), "FailedProxyConfig",
                                  f"{what}; the running config stays: {why}")
            raise ProxyRefused(f"{self.minion.name}: {what}: {why}")
