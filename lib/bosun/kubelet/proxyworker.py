"""The service proxy on one minion: haproxy.cfg and Bosun's iptables chain, kept as rendered.

Observe (one SSH exec reads haproxy.cfg, `iptables-save` of the nat and filter tables, whether
haproxy runs and its servers), render (bosun.proxy, pure), plan (pure), act: when only the pods
behind the listeners changed, the running haproxy gets them through its runtime API (socat to
its admin socket; no restart), then haproxy.cfg is rewritten for the next start. Any other
change is uploaded to a temp file, a new haproxy is started on it taking over gracefully from
the running one (-sf), and only once it runs is the file renamed into place; rules are checked
with `iptables-restore --test` and loaded with --noflush into Bosun's chains only. Anything that
fails is not installed: the old config keeps serving and a Warning event says why. A minion in
iptables mode (bosun.proxy.mode) has no haproxy: only its rules are loaded, the same way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bosun.errors import BosunError
from bosun.events import EventRecorder
from bosun.minion import Minion
from bosun.proxy.haproxy import (
    HAPROXY_CFG,
    PIDFILE,
    STATS_SOCKET,
    haproxy_ports,
    listening_ports,
    read_local_ports,
    read_servers_state,
    reload_argv,
    runtime_argv,
    runtime_input,
    runtime_refusals,
    start_argv,
)
from bosun.proxy.iptables import restore_argv
from bosun.proxy.mode import DnatConfig, RemoveChains, StopHaproxy, plan_minion, render_minion
from bosun.proxy.model import ProxyMinion
from bosun.proxy.plan import (
    ApplyIptables,
    HookChains,
    InstallHaproxy,
    StartHaproxy,
    UpdateServers,
    WriteHaproxyCfg,
)
from bosun.proxy.render import ProxyConfig

SEPARATOR = "----bosun-proxy-observe----"
# Fixed text: no value from any object reaches this script.
OBSERVE_SCRIPT = (
    f"cat {HAPROXY_CFG} 2>/dev/null; echo {SEPARATOR}; "
    f"iptables-save -t nat; iptables-save -t filter; echo {SEPARATOR}; "
    f"if [ -s {PIDFILE} ] && kill -0 $(cat {PIDFILE}) 2>/dev/null; "
    f"then cat {PIDFILE}; fi; echo {SEPARATOR}; "
    f"ss -Htln 2>/dev/null; echo {SEPARATOR}; "
    # The running haproxy's servers; nothing when it does not run or does not answer (then the
    # runtime API is not used this pass: a changed config restarts haproxy).
    f"if [ -s {PIDFILE} ] && kill -0 $(cat {PIDFILE}) 2>/dev/null && [ -S {STATS_SOCKET} ] "
    f"&& command -v socat >/dev/null; then echo 'show servers state' "
    f"| socat -t 2 stdio unix-connect:{STATS_SOCKET} 2>/dev/null || true; fi"
)
# Each write stages its own file (STAGED_PREFIX + a random token): two writers never rename or
# remove each other's.
STAGED_PREFIX = f"{HAPROXY_CFG}.bosun-new-"
# Fixed text; the staged path is $1, the config arrives on stdin. A rename, so a reader never
# sees half a file.
WRITE_SCRIPT = 'cat > "$1" && chmod 644 "$1" && mv -f "$1" ' + HAPROXY_CFG
# One exec per install: stage the config, start haproxy on it (the rest of the arguments: the
# start argv, each word quoted by the SSH boundary), rename it into place once haproxy runs. On
# failure the staged file goes and stderr says why.
INSTALL_SCRIPT = (
    f"s=$1; shift; mkdir -p {HAPROXY_CFG.rsplit('/', 1)[0]} && cat > \"$s\" && chmod 644 \"$s\" "
    f"|| {{ echo \"cannot write $s\" >&2; exit 1; }}; "
    f"\"$@\" || {{ rm -f \"$s\"; exit 1; }}; mv -f \"$s\" {HAPROXY_CFG}"
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observed:
    """One look at the minion's proxy, in one SSH exec."""

    config: str | None  # haproxy.cfg; None: there is none
    iptables: str  # iptables-save -t nat
    pids: list[int]  # of the running haproxy; []: it does not run
    taken_ports: frozenset[int]  # TCP ports other processes listen on
    servers: dict[str, dict[str, bool]] | None  # the running haproxy's; None: unknown


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

    def observe(self) -> Observed:
        """The minion's proxy as it is, in one SSH exec."""
        out = self.minion.check(["sh", "-c", OBSERVE_SCRIPT]).text
        config, iptables, pids, listening, servers = out.split(SEPARATOR + "\n")
        ours = haproxy_ports(config) if pids.split() else set()
        return Observed(config or None, iptables, [int(p) for p in pids.split()],
                        frozenset(listening_ports(listening) - ours),
                        read_servers_state(servers))  # the script asks only a running one

    def sync(self, services: list[dict], endpoints: list[dict]) -> list:
        """One pass; returns the actions carried out. Raises ProxyRefused (after an event) when
        the minion rejected the config, MinionUnreachable when it cannot be reached."""
        seen = self.observe()
        minion = ProxyMinion(self.minion.name, taken_ports=seen.taken_ports,
                             proxy_mode=self.proxy_mode)
        rendered = render_minion(services, endpoints, minion,
                                 read_local_ports(seen.config) if seen.config else None)
        self._report_skipped(rendered)
        actions = plan_minion(rendered, seen.config, seen.iptables,
                              haproxy_running=bool(seen.pids), running_servers=seen.servers)
        for action in actions:
            self.apply(action, seen.pids)
        return actions

    def _report_skipped(self, rendered: ProxyConfig | DnatConfig) -> None:
        if rendered.skipped and rendered.skipped != self.last_skipped:
            self.recorder.warning(self.node(), "ProxySkipped", "; ".join(rendered.skipped))
        self.last_skipped = list(rendered.skipped)

    def apply(self, action, pids: list[int]) -> None:
        """Carry out one planned action; `pids` of the running haproxy. Raises ProxyRefused
        (after a FailedProxyConfig event) when the minion refused it."""
        if isinstance(action, InstallHaproxy):
            staged = _staged()
            start = reload_argv(pids, staged) if pids else start_argv(staged)
            self._validated(["sh", "-c", INSTALL_SCRIPT, "sh", staged, *start],
                            action.text.encode(),
                            "haproxy refused to start on the new haproxy.cfg")
        elif isinstance(action, UpdateServers):
            answer = self.minion.run(runtime_argv(), stdin=runtime_input(action.commands))
            refused = runtime_refusals(answer.text) if answer.exit_code == 0 else [
                answer.stderr.decode(errors="replace").strip()[-300:] or "socat failed"]
            if refused:
                log.warning("%s: haproxy's runtime API refused %s; restarting it on the new "
                            "config instead", self.minion.name, refused[:3])
                self.apply(InstallHaproxy(action.text), pids)
            else:
                self.apply(WriteHaproxyCfg(action.text), pids)
        elif isinstance(action, WriteHaproxyCfg):
            self.minion.check(["sh", "-c", WRITE_SCRIPT, "sh", _staged()],
                              stdin=action.text.encode())
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
            self.minion.check(["rm", "-f", HAPROXY_CFG, PIDFILE, STATS_SOCKET])
        elif isinstance(action, RemoveChains):
            for argv in action.argv:
                self.minion.check(list(argv))

    def _validated(self, argv: list[str], stdin: bytes | None, what: str) -> None:
        """Run argv; if it fails, a FailedProxyConfig event and ProxyRefused say why."""
        done = self.minion.run(argv, stdin=stdin)
        if done.exit_code != 0:
            why = done.stderr.decode(errors="replace").strip()[-500:]
            self.recorder.warning(self.node(), "FailedProxyConfig",
                                  f"{what}; the running config stays: {why}")
            raise ProxyRefused(f"{self.minion.name}: {what}: {why}")


def _staged() -> str:
    return STAGED_PREFIX + secrets.token_hex(6)
