"""Rendered proxy configs held to the real haproxy and iptables, in network namespaces of our own.

Needs root. Whatever loads rules or starts processes does it inside a throwaway network namespace
(`bosun-proxytest-<pid>-<n>`) that the test deletes again; the host's own iptables are never
touched. Processes started here are stopped by their pid.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bosun.proxy import (
    ApplyIptables,
    HookChains,
    InstallHaproxy,
    ProxyMinion,
    hook_rules,
    plan,
    read_local_ports,
    render,
    unhook_rules,
)
from bosun.proxy.haproxy import PIDFILE, STATS_SOCKET, check_argv, reload_argv, start_argv
from bosun.proxy.iptables import restore_argv, save_argv
from tests.unit.test_proxy_names import NASTY
from tests.unit.test_proxy_render import CASES, endpoints, port, service, subset

pytestmark = pytest.mark.integration

MINION = ProxyMinion("minion-1", ("192.0.2.1",))
_numbers = itertools.count()


def _run(argv, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                          **kwargs)
    if check and done.returncode != 0:
        pytest.fail(f"{argv} exited {done.returncode}: {done.stderr}")
    return done


def _in(ns: str, argv) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


@contextlib.contextmanager
def _namespace():
    if os.geteuid() != 0:
        pytest.fail("these tests make network namespaces: run them as root")
    name = f"bosun-proxytest-{os.getpid()}-{next(_numbers)}"
    _run(["ip", "netns", "add", name])
    try:
        _run(["ip", "-n", name, "link", "set", "lo", "up"])
        yield name
    finally:
        _run(["ip", "netns", "del", name], check=False)
        assert name not in _run(["ip", "netns", "list"]).stdout


@pytest.fixture
def netns():
    with _namespace() as name:
        yield name


def _worlds():
    every_case = ([s for c in CASES for s in c[1]], [e for c in CASES for e in c[2]])
    nasty = ([service(n, [port(80, n)], ns=n) for n in NASTY],
             [endpoints(n, [subset(["10.244.1.5"], [(n, 8080)])], ns=n) for n in NASTY])
    many = ([service(f"svc-{i}", [port(80, "http"), port(443, "https", node_port=30000 + i)],
                     ip=f"10.0.{i // 250}.{i % 250 + 1}", kind="NodePort",
                     affinity="ClientIP" if i % 3 else "None") for i in range(300)],
            [endpoints(f"svc-{i}", [subset([f"10.244.{i % 3}.{i % 250 + 1}", "10.244.9.9"],
                                           [("http", 8080), ("https", 8443)])])
             for i in range(300)])
    return {"empty": ([], []), "every-unit-case": every_case, "nasty-names": nasty,
            "300-services": many}


WORLDS = _worlds()


@pytest.mark.parametrize("world", WORLDS.values(), ids=WORLDS.keys())
def test_haproxy_accepts_rendered_config_without_warnings(world, tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(*world, MINION).haproxy)
    _run(check_argv(str(path)))
    verbose = _run(["haproxy", "-c", "-f", str(path)])
    assert "WARNING" not in verbose.stdout + verbose.stderr, verbose.stderr


def test_haproxy_check_rejects_a_broken_config(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(*WORLDS["every-unit-case"], MINION).haproxy + "    no-such-keyword\n")
    assert _run(check_argv(str(path)), check=False).returncode != 0


@pytest.mark.parametrize("world", WORLDS.values(), ids=WORLDS.keys())
def test_iptables_restore_accepts_rendered_rules(world, netns):
    rules = render(*world, MINION).iptables
    _run(_in(netns, restore_argv(test=True)), input=rules)


def test_iptables_restore_test_rejects_broken_rules(netns):
    rules = render(*WORLDS["empty"], MINION).iptables
    broken = rules.replace("COMMIT", "-A BOSUN-SERVICES -p tcp --dport 99999 -j REDIRECT\nCOMMIT")
    assert _run(_in(netns, restore_argv(test=True)), input=broken, check=False).returncode != 0


def _apply_rules(ns: str, actions) -> None:
    """The iptables half of an executor, as the lead's will do it over SSH."""
    for action in actions:
        if isinstance(action, ApplyIptables):
            _run(_in(ns, restore_argv(test=True)), input=action.text)
            _run(_in(ns, restore_argv()), input=action.text)
        elif isinstance(action, HookChains):
            for rule in action.rules:
                if _run(_in(ns, rule.check_argv()), check=False).returncode == 1:
                    _run(_in(ns, rule.insert_argv()))


def _nat(ns: str) -> str:
    return _run(_in(ns, save_argv())).stdout


USER_RULES = ["-A OUTPUT -d 203.0.113.9/32 -m comment --comment user-rule -j RETURN",
              "-A USER-CHAIN -d 203.0.113.10/32 -j RETURN"]


def _add_user_rules(ns: str) -> None:
    _run(_in(ns, ["iptables", "-t", "nat", "-N", "USER-CHAIN"]))
    for rule in USER_RULES:
        _run(_in(ns, ["iptables", "-t", "nat", *rule.split()]))


def _user_rules_intact(ns: str) -> bool:
    lines = _nat(ns).splitlines()
    return all(rule in lines for rule in USER_RULES) and ":USER-CHAIN - [0:0]" in lines


def test_applied_rules_converge_and_leave_other_rules_alone(netns):
    _add_user_rules(netns)
    world = WORLDS["every-unit-case"]
    first = render(*world, MINION)
    _apply_rules(netns, plan(first, first.haproxy, _nat(netns), haproxy_running=True))
    # The kernel's own listing of the chain now plans nothing: rendered == iptables-save form.
    assert plan(first, first.haproxy, _nat(netns), haproxy_running=True) == []
    assert _nat(netns).count("-j BOSUN-SERVICES") == 2
    assert _user_rules_intact(netns)

    without_redis = [s for s in world[0] if s["metadata"]["name"] != "redis"]
    smaller = render(without_redis, world[1], MINION, read_local_ports(first.haproxy))
    actions = plan(smaller, smaller.haproxy, _nat(netns), haproxy_running=True)
    assert actions == [ApplyIptables(smaller.iptables)]
    _apply_rules(netns, actions)
    _apply_rules(netns, [HookChains(tuple(hook_rules()))])  # hooking again adds nothing
    assert plan(smaller, smaller.haproxy, _nat(netns), haproxy_running=True) == []
    assert _nat(netns).count("-j BOSUN-SERVICES") == 2
    assert _user_rules_intact(netns)

    _run(_in(netns, HookChains(tuple(hook_rules())).rules[1].insert_argv()))  # a duplicate
    for argv in unhook_rules(_nat(netns)):
        _run(_in(netns, argv))
    assert "BOSUN" not in _nat(netns)
    assert unhook_rules(_nat(netns)) == []
    assert _user_rules_intact(netns)


# --- traffic: VIP and node port through the real iptables and haproxy ---

POD_SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[1].encode())
    c.close()
"""

CLIENT = """
import json, socket, sys, time
answers = []
for target in sys.argv[2:]:
    host, port = target.rsplit(":", 1)
    for _ in range(int(sys.argv[1])):
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=5) as c:
                    data = b""
                    while chunk := c.recv(100):
                        data += chunk
                if data:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                data = b"FAILED"
                break
            time.sleep(0.05)
        answers.append([target, data.decode()])
print(json.dumps(answers))
"""

PODS = ["127.0.0.2", "127.0.0.3"]
VIP, STICKY_VIP, NODE_PORT = "198.51.100.10", "198.51.100.11", 30080


def _traffic_world(pods):
    services = [service("web", [port(80, "http", node_port=NODE_PORT)], ip=VIP, kind="NodePort"),
                service("sticky", [port(80, "http")], ip=STICKY_VIP, affinity="ClientIP")]
    eps = [endpoints(name, [subset(pods, [("http", 8080)])]) for name in ("web", "sticky")]
    return services, eps


def _ask(ns: str, count: int, *targets: str) -> dict[str, list[str]]:
    out = _run(_in(ns, [sys.executable, "-c", CLIENT, str(count), *targets])).stdout
    answers: dict[str, list[str]] = {}
    for target, answer in json.loads(out):
        answers.setdefault(target, []).append(answer)
    return answers


def _write_cfg(text: str, tmp_path: Path) -> Path:
    # The rendered paths are the minion's own /var/run; `ip netns exec` shares the host's.
    path = tmp_path / "haproxy.cfg"
    path.write_text(text.replace(PIDFILE, str(tmp_path / "haproxy.pid"))
                    .replace(STATS_SOCKET, str(tmp_path / "haproxy.sock")))
    _run(check_argv(str(path)))
    return path


def _pids(tmp_path: Path) -> list[int]:
    return [int(p) for p in (tmp_path / "haproxy.pid").read_text().split()]


def _stop(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a daemon's zombie until init reaps it counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.fixture
def minion(netns):
    """(minion, container): the minion's address 192.0.2.1 faces a "container" namespace at
    192.0.2.2 whose default route is the minion, as a pod's is its minion's Docker bridge.
    The pods themselves listen on the minion's loopback (127.0.0.2 and .3)."""
    with _namespace() as container:
        _run(["ip", "-n", netns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
              "netns", container])
        for ns, address in ((netns, "192.0.2.1/24"), (container, "192.0.2.2/24")):
            _run(["ip", "-n", ns, "addr", "add", address, "dev", "eth0"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", netns, "route", "add", "default", "dev", "eth0"])
        _run(["ip", "-n", container, "route", "add", "default", "via", "192.0.2.1"])
        servers = [subprocess.Popen(_in(netns, [sys.executable, "-c", POD_SERVER, ip]))
                   for ip in PODS]
        try:
            yield netns, container
        finally:
            for server in servers:
                server.kill()
                server.wait(timeout=10)


def test_vip_and_node_port_reach_pods_through_haproxy(minion, tmp_path):
    (ns, container), started = minion, []
    first = render(*_traffic_world(PODS), MINION)
    cfg = _write_cfg(first.haproxy, tmp_path)
    try:
        _run(_in(ns, start_argv(str(cfg))))
        started += _pids(tmp_path)
        _apply_rules(ns, plan(first, first.haproxy, _nat(ns), haproxy_running=True))
        answers = _ask(ns, 6, f"{VIP}:80", f"192.0.2.1:{NODE_PORT}", f"127.0.0.1:{NODE_PORT}",
                       f"{STICKY_VIP}:80")
        rotation = answers[f"{VIP}:80"]  # from the minion itself, through OUTPUT
        assert sorted(set(rotation)) == PODS
        assert all(a != b for a, b in zip(rotation, rotation[1:], strict=False)), rotation
        assert sorted(set(answers[f"192.0.2.1:{NODE_PORT}"])) == PODS
        assert sorted(set(answers[f"127.0.0.1:{NODE_PORT}"])) == PODS
        assert len(set(answers[f"{STICKY_VIP}:80"])) == 1  # ClientIP: one client, one pod
        # From a container, through PREROUTING: REDIRECT sends it to 192.0.2.1:LOCALPORT.
        answers = _ask(container, 6, f"{VIP}:80", f"192.0.2.1:{NODE_PORT}")
        assert sorted(set(answers[f"{VIP}:80"])) == PODS
        assert sorted(set(answers[f"192.0.2.1:{NODE_PORT}"])) == PODS

        # One pod leaves the endpoints: same local ports, new haproxy.cfg, graceful reload.
        second = render(*_traffic_world(PODS[:1]), MINION, read_local_ports(first.haproxy))
        actions = plan(second, first.haproxy, _nat(ns), haproxy_running=True)
        assert actions == [InstallHaproxy(second.haproxy)]
        _write_cfg(second.haproxy, tmp_path)
        _run(_in(ns, reload_argv(started, str(cfg))))
        started += _pids(tmp_path)
        assert _ask(ns, 4, f"{VIP}:80")[f"{VIP}:80"] == PODS[:1] * 4
    finally:
        _stop(started)
    assert not any(_alive(pid) for pid in started)
