"""Service proxying in the lab: a service VIP from every minion and every container rotates over
pods on all minions; NodePort answers on every minion's address; Bosun's rules only; haproxy
reloads lose no request; scaling or killing pods reaches every minion's haproxy through its
runtime API, without a restart.

Requests go through `nc -w 2`: a request that fails (refused, reset, or sent to a pod that is
gone: connect would wait longer than 2 s) prints nothing, so a missing answer is a lost request.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections import Counter

import pytest
from kubernetes import client, config

from bosun.kubelet.proxyworker import STAGED_PREFIX, ProxyRefused, ProxyWorker
from bosun.minion import Fleet
from bosun.proxy.haproxy import HAPROXY_CFG, PIDFILE, STATS_SOCKET, read_servers_state
from bosun.proxy.plan import InstallHaproxy

from .test_kubelet import NS, SERVE_LOG, wait_for

FETCH = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port} | tail -n 1"
SERVE = "hostname > /www/index.html && exec httpd -f -p 8080 -h /www"


@pytest.fixture(scope="module")
def v1(lab):
    SERVE_LOG[:] = [lab.spec.api_dir / "serve.log"]
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture(scope="module")
def echo_service(v1, lab):
    """An RC of 3 pods answering with their own name, behind a NodePort service."""
    v1.create_namespaced_replication_controller(NS, {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "echo"},
        "spec": {"replicas": 3, "template": {
            "metadata": {"labels": {"app": "echo"}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": "web", "image": "bosun/busybox:1", "command": ["sh", "-c", SERVE],
                "ports": [{"name": "http", "containerPort": 8080}]}]}}}})
    service = v1.create_namespaced_service(NS, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
        "spec": {"type": "NodePort", "selector": {"app": "echo"},
                 "ports": [{"port": 80, "targetPort": "http"}]}})
    # Exactly the RC's 3 live pods ready: an earlier module's echo pods may still be going.
    pods = wait_for(lambda: _settled_echo_pods(v1) if _exists(v1) else None, 90,
                    "3 ready endpoints, the only echo pods")
    yield service, pods
    v1.delete_namespaced_service("echo", NS)
    v1.delete_namespaced_replication_controller("echo", NS)


def _settled_echo_pods(v1) -> dict[str, str] | None:
    """Pod name -> minion once there are exactly 3 echo pods, none going, all ready in the
    Endpoints; None before."""
    pods = v1.list_namespaced_pod(NS, label_selector="app=echo").items
    if len(pods) != 3 or any(p.metadata.deletion_timestamp for p in pods):
        return None
    if set(_pod_ips(v1)) != {p.status.pod_ip for p in pods}:
        return None
    return {p.metadata.name: p.spec.node_name for p in pods}


def _exists(v1) -> bool:
    try:
        v1.read_namespaced_endpoints("echo", NS)
    except client.ApiException:
        return False
    return True


def _answers(minion, argv) -> Counter:
    return Counter(line for line in minion.check(argv, timeout=120).text.splitlines() if line)


def _loop(vip: str, count: int = 30) -> str:
    return f"for i in $(seq {count}); do {FETCH.format(ip=vip, port=80)}; done"


def _all_answered(minion, argv, pods) -> Counter | None:
    """The answers when all 30 requests were answered by exactly `pods`, else None."""
    answers = _answers(minion, argv)
    return answers if set(answers) == set(pods) and sum(answers.values()) == 30 else None


def _rotated(minion, argv, pods) -> Counter | None:
    """The answers when all 30 went round-robin over `pods` (10 each for 3), else None."""
    answers = _all_answered(minion, argv, pods)
    return answers if answers and max(answers.values()) - min(answers.values()) <= 1 else None


def _installed(minion) -> bool:
    """Whether the running haproxy was started on the minion's haproxy.cfg as it is now (its
    pidfile is newer: a restart renames the file into place before the new haproxy starts)."""
    return minion.run(["test", PIDFILE, "-nt", HAPROXY_CFG]).exit_code == 0


def _servers(minion) -> set[str]:
    """Pod IPs the running haproxy sends the echo service's connections to, from its runtime
    API (servers added there, and not in maintenance)."""
    answer = minion.check(["sh", "-c", f"echo 'show servers state' | socat stdio "
                           f"unix-connect:{STATS_SOCKET}"]).text
    running = read_servers_state(answer)
    assert running is not None, answer
    return {name.split(":")[0] for listener, servers in running.items()
            if listener.startswith(f"{NS}.echo.") for name, serving in servers.items()
            if serving}


def _config_ips(minion) -> set[str]:
    """Pod IPs of every server line in the minion's haproxy.cfg."""
    config = minion.check(["cat", HAPROXY_CFG]).text
    return set(re.findall(r"^\s+server (\S+):\d+ ", config, re.MULTILINE))


def _haproxy_pids(fleet) -> dict[str, str]:
    return {minion.name: minion.check(["cat", PIDFILE]).text.strip() for minion in fleet}


def _pod_ips(v1) -> dict[str, str]:
    """Ready echo pods: IP -> name."""
    endpoints = v1.read_namespaced_endpoints("echo", NS)
    return {a.ip: a.target_ref.name for s in endpoints.subsets or [] for a in s.addresses or []}


def test_vip_rotates_over_pods_on_all_minions_from_minions_and_containers(lab, echo_service):
    service, pods = echo_service
    vip = service.spec.cluster_ip
    assert len(set(pods.values())) == 3, pods  # one pod per minion (spread)
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            # The proxy may still be catching up with the last endpoints change (a reload in
            # the middle of the 30 restarts the rotation); once it has, every request is
            # answered and they go round-robin over every pod.
            wait_for(lambda m=minion: _rotated(m, ["busybox", "sh", "-c", _loop(vip)], pods),
                     30, f"the VIP rotating from {minion.name}")
            from_container = _rotated(minion, ["docker", "run", "--rm", "bosun/busybox:1",
                                               "sh", "-c", _loop(vip)], pods)
            assert from_container, f"requests from a container on {minion.name}"


def test_node_port_answers_on_every_minion(lab, echo_service):
    service, pods = echo_service
    node_port = service.spec.ports[0].node_port
    for minion in lab.minions:
        with socket.create_connection((minion.address, node_port), timeout=3) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := conn.recv(4096):
                reply += chunk
        assert reply.decode().strip().splitlines()[-1] in pods


def test_users_own_rule_survives_a_rules_change(v1, lab, echo_service):
    own = ["iptables", "-t", "nat", "-A", "POSTROUTING", "-d", "192.0.2.99/32", "-m",
           "comment", "--comment", "users-own-rule", "-j", "RETURN"]
    with Fleet(lab.inventory.minions()[:1]) as fleet:
        minion = fleet["minion-1"]
        minion.check(own)
        try:
            extra = v1.create_namespaced_service(NS, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "extra"},
                "spec": {"selector": {"app": "echo"}, "ports": [{"port": 81,
                                                                  "targetPort": "http"}]}})
            vip = extra.spec.cluster_ip
            saved = wait_for(lambda: (lambda t: t if vip in t else None)(
                minion.check(["iptables-save", "-t", "nat"]).text), 30, "the new service's rule")
            assert "users-own-rule" in saved and "-j DOCKER" in saved
            v1.delete_namespaced_service("extra", NS)
        finally:
            own[3] = "-D"
            minion.check(own)


def _stream(minion, vip: str, stop_file: str, out: list) -> None:
    """Requests to the VIP one after another until `stop_file` exists; one line per request."""
    script = (f'while [ ! -e {stop_file} ]; do r=$({FETCH.format(ip=vip, port=80)}); '
              'echo "got:$r"; done')
    out.append(minion.check(["busybox", "sh", "-c", script], timeout=180).text.splitlines())


def test_haproxy_reloads_during_a_steady_stream_lose_no_request(v1, lab, echo_service):
    service, pods = echo_service
    stop_file = f"/tmp/stop-stream-{uuid.uuid4().hex[:8]}"
    with Fleet(lab.inventory.minions()[:1]) as stream_fleet, \
            Fleet(lab.inventory.minions()[:1]) as fleet:
        minion = fleet["minion-1"]
        loop = ["busybox", "sh", "-c", _loop(service.spec.cluster_ip)]
        wait_for(lambda: _all_answered(minion, loop, pods), 30, "the VIP from minion-1")
        pid_before = minion.check(["cat", PIDFILE]).text.split()
        out: list = []
        streamer = threading.Thread(target=_stream, args=(
            stream_fleet["minion-1"], service.spec.cluster_ip, stop_file, out))
        streamer.start()
        try:
            for round_ in range(4):  # each new or deleted service port: a config change + reload
                name = f"reload-{round_}"
                extra = v1.create_namespaced_service(NS, {
                    "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                    "spec": {"selector": {"app": "echo"},
                             "ports": [{"port": 82, "targetPort": "http"}]}})
                vip = extra.spec.cluster_ip
                wait_for(lambda v=vip: v in minion.check(["cat", HAPROXY_CFG]).text, 30,
                         f"service {name} in haproxy.cfg")
                v1.delete_namespaced_service(name, NS)
                wait_for(lambda v=vip: v not in minion.check(["cat", HAPROXY_CFG]).text, 30,
                         f"service {name} gone from haproxy.cfg")
        finally:
            minion.check(["touch", stop_file])
            streamer.join(timeout=60)
            minion.check(["rm", "-f", stop_file])
        pid_after = minion.check(["cat", PIDFILE]).text.split()
    assert pid_after != pid_before  # haproxy really was reloaded meanwhile
    lines = out[0]
    answers = Counter(line.removeprefix("got:") for line in lines)
    assert len(lines) >= 50, lines  # the stream ran across the reloads
    assert set(answers) == set(pods), answers  # no empty answer: nothing was lost


def _converge_every_minion(fleet, wanted: set[str], what: str) -> float:
    """Seconds until every minion's haproxy has exactly the pod IPs `wanted`."""
    started = time.monotonic()
    for minion in fleet:
        wait_for(lambda m=minion: _servers(m) == wanted, 30, f"{what} on {minion.name}")
    return time.monotonic() - started


def _only_live_pods_answer(fleet, vip: str, live: dict[str, str]) -> None:
    for minion in fleet:
        answers = _answers(minion, ["busybox", "sh", "-c", _loop(vip)])
        assert sum(answers.values()) == 30 and set(answers) == set(live.values()), (
            minion.name, answers)


def test_killing_and_scaling_pods_update_every_minion(v1, lab, echo_service):
    service, _ = echo_service
    vip = service.spec.cluster_ip
    with Fleet(lab.inventory.minions()) as fleet:
        before = wait_for(lambda: (lambda ips: ips if len(ips) == 3 else None)(_pod_ips(v1)),
                          60, "3 ready echo pods")
        _converge_every_minion(fleet, set(before), "the 3 echo pods")
        pids = _haproxy_pids(fleet)
        victim_ip, victim = sorted(before.items())[0]
        v1.delete_namespaced_pod(victim, NS)
        after = wait_for(lambda: (lambda ips: ips if len(ips) == 3 and victim_ip not in ips
                                  else None)(_pod_ips(v1)), 60, "the killed pod's replacement")
        _converge_every_minion(fleet, set(after), "the replacement pod")
        _only_live_pods_answer(fleet, vip, after)

        v1.patch_namespaced_replication_controller_scale("echo", NS, {"spec": {"replicas": 2}})
        two = wait_for(lambda: (lambda ips: ips if len(ips) == 2 else None)(_pod_ips(v1)), 60,
                       "2 ready echo pods")
        _converge_every_minion(fleet, set(two), "scale to 2")
        _only_live_pods_answer(fleet, vip, two)
        # Only pods changed: every minion's haproxy got them through its runtime API, no
        # restart; haproxy.cfg was rewritten to match, for its next start.
        assert _haproxy_pids(fleet) == pids
        for minion in fleet:
            wait_for(lambda m=minion: _config_ips(m) == set(two), 10,
                     f"haproxy.cfg of {minion.name} listing the 2 pods")


def test_a_node_port_taken_on_one_minion_is_left_out_there_and_no_request_is_lost(
        v1, lab, echo_service):
    """Another process holds a NodePort on minion-1: haproxy could not bind it (and a failed
    bind during a reload pauses the running haproxy), so minion-1 serves the service without
    that node port and a ProxySkipped event says why; the other minions serve it whole."""
    service, _ = echo_service
    pods = set(_pod_ips(v1).values())  # the tests before killed a pod and scaled the RC
    taken = 30099
    stop_file = f"/tmp/stop-stream-{uuid.uuid4().hex[:8]}"
    with Fleet(lab.inventory.minions()) as fleet, \
            Fleet(lab.inventory.minions()[:1]) as stream_fleet:
        minion = fleet["minion-1"]
        squatter = minion.check(["sh", "-c", f"busybox nc -l -p {taken} </dev/null >/dev/null "
                                 "2>&1 & echo $!"]).text.strip()
        out: list = []
        streamer = threading.Thread(target=_stream, args=(
            stream_fleet["minion-1"], service.spec.cluster_ip, stop_file, out))
        streamer.start()
        try:
            squatted = v1.create_namespaced_service(NS, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "squatted"},
                "spec": {"type": "NodePort", "selector": {"app": "echo"},
                         "ports": [{"port": 83, "targetPort": "http", "nodePort": taken}]}})
            event = wait_for(lambda: next((e for e in v1.list_event_for_all_namespaces(
                field_selector="involvedObject.name=minion-1").items
                if e.reason == "ProxySkipped" and str(taken) in e.message), None), 30,
                "a ProxySkipped event")
            assert event.type == "Warning" and "taken on minion-1" in event.message
            vip = squatted.spec.cluster_ip
            wait_for(lambda: _installed(minion) and vip in minion.check(
                ["cat", HAPROXY_CFG]).text, 30, "the service on minion-1")
            assert f":{taken}" not in minion.check(["cat", HAPROXY_CFG]).text
            for other in ("minion-2", "minion-3"):
                wait_for(lambda o=other: f":{taken}" in fleet[o].check(["cat", HAPROXY_CFG]).text,
                         30, f"the node port on {other}")
        finally:
            minion.check(["touch", stop_file])
            streamer.join(timeout=60)
            minion.check(["rm", "-f", stop_file])
            v1.delete_namespaced_service("squatted", NS)
            minion.run(["kill", squatter])
            # The next test starts from a settled minion-1: the service gone from its haproxy.
            wait_for(lambda: _installed(minion) and ".squatted." not in minion.check(
                ["cat", HAPROXY_CFG]).text, 30, "the squatted service gone from minion-1")
    answers = Counter(line.removeprefix("got:") for line in out[0])
    assert "" not in answers, answers  # a lost request prints an empty answer
    assert set(answers) == pods and sum(answers.values()) > 10, answers


class RecordingEvents:
    """Stands in for the kubelet's EventRecorder: keeps (type, reason, message)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def warning(self, _obj, reason: str, message: str, *_args) -> None:
        self.events.append(("Warning", reason, message))


def test_a_config_haproxy_refuses_is_not_installed_and_the_running_one_serves_on(
        v1, lab, echo_service):
    service, _ = echo_service
    pods = set(_pod_ips(v1).values())  # the tests before scaled the RC
    with Fleet(lab.inventory.minions()[:1]) as fleet:
        minion = fleet["minion-1"]
        loop = ["busybox", "sh", "-c", _loop(service.spec.cluster_ip)]
        wait_for(lambda: _all_answered(minion, loop, pods), 30, "the VIP from minion-1")
        ips = set(_pod_ips(v1))  # the proxy may still be writing the last scale's haproxy.cfg
        wait_for(lambda: _servers(minion) == ips and _config_ips(minion) == ips, 30,
                 "minion-1's haproxy and haproxy.cfg settled")
        before = minion.check(["cat", HAPROXY_CFG]).text
        pids = [int(p) for p in minion.check(["cat", PIDFILE]).text.split()]
        events = RecordingEvents()
        worker = ProxyWorker(minion, events, lambda: {"metadata": {"name": "minion-1"}})
        broken = before + "\nlisten broken\n    bogus_keyword 1\n"
        with pytest.raises(ProxyRefused):
            worker.apply(InstallHaproxy(broken), pids)
        assert [(kind, reason) for kind, reason, _ in events.events] == [
            ("Warning", "FailedProxyConfig")]
        assert "bogus_keyword" in events.events[0][2]
        assert minion.check(["cat", HAPROXY_CFG]).text == before
        staged = minion.check(["sh", "-c", f"ls {STAGED_PREFIX}* 2>/dev/null || true"]).text
        assert staged == ""  # the temp file is gone
        assert [int(p) for p in minion.check(["cat", PIDFILE]).text.split()] == pids
        assert _all_answered(minion, loop, pods)  # the running haproxy never stopped
