"""haproxy.cfg for one minion: a TCP listener per service port, balancing over its ready pods.

`render_haproxy` is pure; the argv builders below are the only way Bosun spells haproxy's
command lines (the executor quotes them once at the SSH boundary). `read_local_ports` reads the
local ports back from a config rendered here, so a re-render can keep them where they are.

When only the pods behind the listeners change, the running haproxy is told through its runtime
API (the admin socket, reached with socat) instead of being restarted: `server_commands` says
what to send, from `config_servers` of the rendered config and `read_servers_state` of what the
running haproxy has; `runtime_refusals` reads its answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bosun.proxy.model import (
    ProxyMinion,
    Server,
    ServicePort,
    comment_text,
    proxied_ports,
    ready_servers,
)
from bosun.proxy.ports import local_ports_for
from bosun.proxy.templates import render_template

HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
PIDFILE = "/var/run/haproxy.pid"
STATS_SOCKET = "/var/run/haproxy.sock"
TEMPLATE = "haproxy.cfg.j2"

_NAME_SAFE = re.compile(r"[a-z0-9-]")
_ESCAPE = re.compile(rb"_([0-9a-f]{2})")
_ESCAPED_PART = re.compile(r"(?:[a-z0-9-]|_[0-9a-f]{2})+")
_LISTEN = re.compile(r"^listen (\S+)\s*$")
_BIND = re.compile(r"^\s+bind 0\.0\.0\.0:(\d+)\s*$")
_ANY_BIND = re.compile(r"^\s+bind \S*:(\d+)\s*$", re.MULTILINE)
_SERVER = re.compile(r"^\s+server (\S+) (\S+)")
# What the runtime API answers to add/del/set/enable server when all went well. A server that
# still carries connections cannot be deleted: it stays in maintenance (no new connections).
_RUNTIME_OK = frozenset({"", "New server registered.", "Server deleted.",
                         "Server still has connections attached to it, cannot remove it."})


@dataclass(frozen=True)
class Listener:
    """One `listen` section: what the template needs, every value already checked."""

    name: str
    comment: str
    local_port: int
    node_port: int | None
    client_ip_affinity: bool
    servers: tuple[Server, ...]


def render_haproxy(services: Iterable[Mapping[str, Any]], endpoints: Iterable[Mapping[str, Any]],
                   minion: ProxyMinion, local_ports: Mapping[str, int] | None = None) -> str:
    """The whole haproxy.cfg for `minion`, identical for the same cluster in any order.

    `local_ports` maps `namespace/service:port` to its local port (default: allocated afresh);
    a service port without one is left out. Raises ValueError for a local port out of 1-65535
    or given twice, jinja2.TemplateError if the template is broken.
    """
    ports, _ = proxied_ports(services)
    servers, _ = ready_servers(endpoints)
    if local_ports is None:
        local_ports = local_ports_for(ports)
    return haproxy_text(minion, listeners(ports, servers, local_ports))


def listeners(ports: Sequence[ServicePort],
              servers: Mapping[tuple[str, str, str], Sequence[Server]],
              local_ports: Mapping[str, int]) -> list[Listener]:
    """A listener for each service port that has a local port, in key order."""
    _check_local_ports(local_ports)
    result = []
    for port in sorted(ports, key=ServicePort.order):
        if port.key not in local_ports:
            continue
        behind = servers.get((port.namespace, port.service, port.port_name), ())
        comment = f"{comment_text(port.key)} clusterIP {port.cluster_ip}:{port.port}"
        if port.node_port is not None:
            comment += f" nodePort {port.node_port}"
        result.append(Listener(proxy_name(port), comment, local_ports[port.key], port.node_port,
                               port.client_ip_affinity, tuple(behind)))
    return result


def haproxy_text(minion: ProxyMinion, proxies: Sequence[Listener]) -> str:
    """The template rendered around `proxies`."""
    addresses = " ".join(comment_text(a) for a in sorted(minion.addresses))
    return render_template(TEMPLATE, minion=comment_text(minion.name), addresses=addresses,
                           pidfile=PIDFILE, stats_socket=STATS_SOCKET, proxies=proxies)


def proxy_name(port: ServicePort) -> str:
    """`namespace.service.port`, each part escaped so that the name is valid and one-to-one.

    haproxy names allow letters, digits, '-', '_', '.', ':'; DNS-1123 names pass unchanged and
    anything else becomes `_xx` (hex of each UTF-8 byte), so no two service ports share a name.
    """
    return ".".join(_escape(part) for part in (port.namespace, port.service, port.label))


def read_local_ports(config: str) -> dict[str, int]:
    """`namespace/service:port` -> local port, from a haproxy.cfg rendered by `render_haproxy`.

    Sections it cannot read are ignored: an empty or foreign config gives {}.
    """
    found: dict[str, int] = {}
    key = None
    for line in config.splitlines():
        if listen := _LISTEN.match(line):
            key = _key_from_name(listen.group(1))
        elif key is not None and (bind := _BIND.match(line)):
            found.setdefault(key, int(bind.group(1)))
            key = None
    return found


def haproxy_ports(config: str) -> set[int]:
    """Every port a haproxy.cfg rendered here binds (local ports and node ports)."""
    return {int(port) for port in _ANY_BIND.findall(config)}


def listening_ports(ss_output: str) -> set[int]:
    """The ports of `ss -Htln` (TCP sockets listening, no header): `LISTEN 0 128 *:22 *:*`."""
    found = set()
    for line in ss_output.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].rpartition(":")[2].isdigit():
            found.add(int(fields[3].rpartition(":")[2]))
    return found


def config_servers(config: str) -> dict[str, dict[str, str]]:
    """Listener name -> server name -> address, from a haproxy.cfg rendered here."""
    found: dict[str, dict[str, str]] = {}
    servers = None
    for line in config.splitlines():
        if listen := _LISTEN.match(line):
            servers = found.setdefault(listen.group(1), {})
        elif servers is not None and (server := _SERVER.match(line)):
            servers[server.group(1)] = server.group(2)
    return found


def without_servers(config: str) -> str:
    """`config` without its server lines: equal for two configs that differ only in pods."""
    return "\n".join(line for line in config.splitlines() if not _SERVER.match(line))


def read_servers_state(text: str) -> dict[str, dict[str, bool]] | None:
    """Listener -> server name -> whether it takes new connections, from the runtime API's
    `show servers state`; None when `text` is not that answer (no socat, no socket).

    A server takes connections when no maintenance or drain flag is set on it (admin state 0):
    servers are added in maintenance and removed by putting them there.
    """
    lines = text.splitlines()
    if len(lines) < 2 or lines[0].strip() != "1" or not lines[1].startswith("# be_id"):
        return None
    columns = lines[1][2:].split()
    backend, server, admin = (columns.index(c) for c in
                              ("be_name", "srv_name", "srv_admin_state"))
    found: dict[str, dict[str, bool]] = {}
    for line in lines[2:]:
        fields = line.split()
        if len(fields) == len(columns):
            found.setdefault(fields[backend], {})[fields[server]] = fields[admin] == "0"
    return found


def server_commands(running: Mapping[str, Mapping[str, bool]],
                    wanted: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Runtime API commands that make the running servers the `wanted` ones ([]: they are).

    `running` is `read_servers_state` of the running haproxy, `wanted` `config_servers` of the
    rendered config, whose listeners the running haproxy has (the caller checks that its config
    differs at most in server lines): haproxy does not list a listener without servers.
    A server that is not wanted but still running is put in maintenance, then deleted; one
    already in maintenance is left alone (it takes no connection, and a later add reuses it).
    """
    commands = []
    for listener in sorted(wanted):
        have, want = running.get(listener, {}), wanted[listener]
        for name in sorted(want):
            target = f"{listener}/{name}"
            if name not in have:
                commands += [f"add server {target} {want[name]}", f"enable server {target}"]
            elif not have[name]:
                commands.append(f"set server {target} state ready")
        for name in sorted(n for n, serving in have.items() if serving and n not in want):
            commands += [f"set server {listener}/{name} state maint",
                         f"del server {listener}/{name}"]
    return commands


def runtime_argv() -> list[str]:
    """Send stdin's commands (one line, `;` between them) to the running haproxy's admin socket;
    -t: wait this long for its answers after stdin ends."""
    return ["socat", "-t", "5", "stdio", f"unix-connect:{STATS_SOCKET}"]


def runtime_input(commands: Sequence[str]) -> bytes:
    """One line: the runtime API reads one line per connection when not in interactive mode.
    Every word comes from a rendered config: escaped names and checked IPv4 addresses."""
    return ("; ".join(commands) + "\n").encode()


def runtime_refusals(answer: str) -> list[str]:
    """The lines of the runtime API's answer that say a command failed ([]: all went well)."""
    return [line for line in (raw.strip() for raw in answer.splitlines())
            if line not in _RUNTIME_OK]


def check_argv(path: str) -> list[str]:
    """Validate the config at `path` without touching the running haproxy."""
    return ["haproxy", "-c", "-q", "-f", path]


def start_argv(path: str = HAPROXY_CFG) -> list[str]:
    """Start haproxy in the background; the config's `pidfile` records its pid in PIDFILE.

    No `-p`: haproxy raises an alert when the command line repeats the config's pidfile.
    """
    return ["haproxy", "-f", path, "-D"]


def reload_argv(old_pids: Sequence[int], path: str = HAPROXY_CFG) -> list[str]:
    """Start a new haproxy that takes over the listeners and lets `old_pids` finish (-sf)."""
    return [*start_argv(path), "-sf", *(str(pid) for pid in old_pids)]


def _escape(part: str) -> str:
    return "".join(c if _NAME_SAFE.fullmatch(c) else "".join(f"_{b:02x}" for b in c.encode())
                   for c in part)


def _key_from_name(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) != 3:
        return None
    try:
        namespace, service, label = (_unescape(part) for part in parts)
    except ValueError:  # UnicodeDecodeError included
        return None
    return f"{namespace}/{service}:{label}"


def _unescape(part: str) -> str:
    if not _ESCAPED_PART.fullmatch(part):
        raise ValueError(part)
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), part.encode()).decode()


def _check_local_ports(local_ports: Mapping[str, int]) -> None:
    ports = list(local_ports.values())
    bad = [p for p in ports if not isinstance(p, int) or isinstance(p, bool) or not 0 < p < 65536]
    if bad:
        raise ValueError(f"local ports must be in 1-65535, not {bad}")
    if len(set(ports)) != len(ports):
        raise ValueError("a local port is given to two service ports")
