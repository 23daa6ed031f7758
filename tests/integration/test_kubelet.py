"""The kubelet over SSH, in the lab: pods through the API become containers on minions.

The lab's `serve` runs the kubelet for the lab's inventory; these tests talk to it with the
`kubernetes` client and look at the minions through bosun.minion, as an operator would.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
from kubernetes import client, config

from bosun.lab import build
from bosun.lab.system import running_pid
from bosun.minion import Fleet

NS = "default"
LABEL_POD_UID = "io.bosun.pod.uid"


SERVE_LOG: list = []  # the lab's serve log, shown when a wait times out


@pytest.fixture(scope="module")
def v1(lab):
    SERVE_LOG[:] = [lab.spec.api_dir / "serve.log"]
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    core = client.CoreV1Api(api_client)
    yield core
    core.delete_collection_namespaced_pod(NS, label_selector="test=kubelet")
    api_client.close()


@pytest.fixture(scope="module")
def fleet(lab):
    with Fleet(lab.inventory.minions(), timeout=60) as fleet:
        yield fleet


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            log = SERVE_LOG[0].read_text()[-4000:] if SERVE_LOG else ""
            raise AssertionError(f"timed out waiting for {what}; serve log:\n{log}")
        time.sleep(0.2)


def make_pod(name: str, node: str, containers: list[dict], restart: str = "Always") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"test": "kubelet"}},
            "spec": {"nodeName": node, "restartPolicy": restart, "containers": containers,
                     "terminationGracePeriodSeconds": 2}}


def web(name: str = "web", page: str = "hello") -> dict:
    return {"name": name, "image": "bosun/busybox:1",
            "command": ["sh", "-c", f"echo {page} > /www/index.html && exec httpd -f -p 80 "
                        "-h /www"],
            "ports": [{"containerPort": 80}]}


def running(v1, name: str):
    def check():
        pod = v1.read_namespaced_pod(name, NS)
        ready = [c for c in pod.status.conditions or [] if c.type == "Ready"]
        if pod.status.phase == "Running" and ready and ready[0].status == "True" and \
                pod.status.pod_ip:
            return pod
        return None

    return wait_for(check, 60, f"pod {name} Running and Ready")


def http_get(ip: str, port: int = 80, wait: float = 10) -> str:
    """GET / from ip:port; a container counts as running (no readiness probe) a moment before
    its server listens, so a refused connection is tried again for a while."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((ip, port), timeout=3) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
            return data.decode()
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def containers_of(fleet, node: str, uid: str) -> list[dict]:
    return fleet[node].containers({LABEL_POD_UID: uid})


def test_minions_are_registered_as_ready_nodes(v1, lab):
    nodes = wait_for(lambda: [n for n in v1.list_node().items if n.status.conditions and
                              n.status.conditions[0].status == "True"]
                     if len(v1.list_node().items) == len(lab.minions) else None, 60, "nodes")
    by_name = {n.metadata.name: n for n in nodes}
    assert set(by_name) == {m.name for m in lab.minions}
    node = by_name["minion-1"]
    assert node.spec.pod_cidr == lab.minion("minion-1").pod_cidr
    assert int(node.status.capacity["cpu"]) >= 1
    assert node.status.node_info.container_runtime_version.startswith("docker://")
    assert {"type": "InternalIP", "address": lab.minion("minion-1").address} in [
        a.to_dict() for a in node.status.addresses]


def test_pod_runs_on_its_minion_and_answers_on_its_pod_ip(v1, lab, fleet):
    v1.create_namespaced_pod(NS, make_pod("web-1", "minion-2", [web(page="from-web-1")]))
    pod = running(v1, "web-1")
    minion = lab.minion("minion-2")
    assert pod.status.host_ip == minion.address
    assert pod.status.pod_ip.startswith(minion.pod_cidr.rsplit(".", 2)[0])
    assert pod.status.container_statuses[0].ready
    assert pod.status.container_statuses[0].container_id.startswith("docker://")
    assert "from-web-1" in http_get(pod.status.pod_ip)
    # ... and from a container on another minion, by pod IP.
    reply = fleet["minion-3"].check(["docker", "run", "--rm", "bosun/busybox:1", "sh", "-c",
                                     f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "
                                     f"{pod.status.pod_ip} 80"])
    assert "from-web-1" in reply.text


def test_two_containers_of_a_pod_share_localhost(v1):
    talker = {"name": "talker", "image": "bosun/busybox:1",
              "command": ["sh", "-c", "while :; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | "
                          "nc -w 2 127.0.0.1 80 | tail -n 1; sleep 1; done"]}
    v1.create_namespaced_pod(NS, make_pod("pair", "minion-1", [web(page="shared-net"), talker]))
    pod = running(v1, "pair")
    assert len(pod.status.container_statuses) == 2
    wait_for(lambda: "shared-net" in v1.read_namespaced_pod_log("pair", NS, container="talker"),
             20, "the talker to fetch its sibling's page over localhost")


def test_killed_container_is_replaced_and_counted(v1, lab, fleet):
    v1.create_namespaced_pod(NS, make_pod("phoenix", "minion-3", [web()]))
    pod = running(v1, "phoenix")
    uid = pod.metadata.uid
    first = [c for c in containers_of(fleet, "minion-3", uid)
             if c["Labels"]["io.bosun.container.name"] == "web"][0]
    fleet["minion-3"].check(["docker", "kill", first["Id"]])
    restarted = wait_for(lambda: (lambda p: p if p.status.container_statuses[0].restart_count
                                  == 1 and p.status.container_statuses[0].ready else None)(
        v1.read_namespaced_pod("phoenix", NS)), 30, "a restarted container")
    assert restarted.status.container_statuses[0].last_state.terminated.exit_code == 137
    live = [c for c in containers_of(fleet, "minion-3", uid) if c["State"] == "running"]
    assert len(live) == 2  # infra + the replacement, nothing doubled
    assert "hello" in http_get(restarted.status.pod_ip)


def test_restart_policy_never_leaves_a_dead_container_dead(v1, fleet):
    once = {"name": "once", "image": "bosun/busybox:1", "command": ["sh", "-c", "exit 3"]}
    v1.create_namespaced_pod(NS, make_pod("once", "minion-1", [once], restart="Never"))
    pod = wait_for(lambda: (lambda p: p if p.status.phase == "Failed" else None)(
        v1.read_namespaced_pod("once", NS)), 30, "phase Failed")
    state = pod.status.container_statuses[0].state.terminated
    assert state.exit_code == 3 and state.reason == "Error"
    time.sleep(3)
    assert v1.read_namespaced_pod("once", NS).status.container_statuses[0].restart_count == 0


def test_deleted_pod_leaves_no_container(v1, fleet):
    v1.create_namespaced_pod(NS, make_pod("doomed", "minion-2", [web()]))
    uid = running(v1, "doomed").metadata.uid
    assert containers_of(fleet, "minion-2", uid)
    v1.delete_namespaced_pod("doomed", NS)
    wait_for(lambda: not containers_of(fleet, "minion-2", uid), 30, "containers removed")


def test_stray_container_of_no_pod_is_removed(fleet):
    stray = str(uuid.uuid4())
    fleet["minion-1"].check(["docker", "run", "-d", "--label", f"{LABEL_POD_UID}={stray}",
                             "--label", "io.bosun.container.name=web",
                             "--label", "io.bosun.pod.grace-seconds=1", "bosun/busybox:1",
                             "sleep", "600"])
    wait_for(lambda: not containers_of(fleet, "minion-1", stray), 30, "stray removed")


def test_metacharacters_arrive_literally_and_nothing_runs_on_the_minion(v1, fleet):
    marker = f"/tmp/bosun-pwned-{uuid.uuid4().hex[:8]}"
    nasty = [f"$(touch {marker})", f"; touch {marker}", "`id`", "it's \"quoted\"", "two\nlines"]
    echo = {"name": "echo", "image": "bosun/busybox:1",
            "command": ["sh", "-c", 'for a in "$@"; do printf "%s|" "$a"; done; '
                        'printf "%s|\\n" "$NASTY"; sleep 600', "sh", *nasty],
            "env": [{"name": "NASTY", "value": nasty[0]}]}
    v1.create_namespaced_pod(NS, make_pod("nasty", "minion-2", [echo]))
    running(v1, "nasty")
    log = wait_for(lambda: (lambda text: text if text.count("|") >= len(nasty) + 1 else "")(
        v1.read_namespaced_pod_log("nasty", NS)), 20, "all the log output")
    # (Docker shows a line once it ends: hence the final newline.)
    assert log.split("|")[:-1] == [*nasty, nasty[0]]
    for minion in fleet:
        assert minion.run(["test", "-e", marker]).exit_code == 1


def test_logs_and_events_show_what_happened(v1):
    talker = {"name": "talk", "image": "bosun/busybox:1",
              "command": ["sh", "-c", "for i in 1 2 3; do echo line $i; done; sleep 600"]}
    v1.create_namespaced_pod(NS, make_pod("talk", "minion-3", [talker]))
    running(v1, "talk")
    assert wait_for(lambda: v1.read_namespaced_pod_log("talk", NS), 10) == \
        "line 1\nline 2\nline 3\n"
    assert v1.read_namespaced_pod_log("talk", NS, tail_lines=1) == "line 3\n"
    events = v1.list_namespaced_event(NS, field_selector="involvedObject.name=talk").items
    reasons = {e.reason for e in events}
    assert {"Created", "Started"} <= reasons


def test_kubectl_logs_follow_streams_lines_as_they_are_written(v1, lab):
    ticker = {"name": "tick", "image": "bosun/busybox:1", "command": [
        "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done"]}
    v1.create_namespaced_pod(NS, make_pod("ticker", "minion-2", [ticker]))
    running(v1, "ticker")
    lines: queue.Queue = queue.Queue()
    follow = subprocess.Popen(["kubectl", "--kubeconfig", str(lab.spec.kubeconfig), "logs",
                               "-f", "--tail=1", "-c", "tick", "ticker"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = threading.Thread(target=lambda: [lines.put((time.monotonic(), line))
                                              for line in follow.stdout], daemon=True)
    reader.start()
    try:
        got = [lines.get(timeout=15) for _ in range(5)]
    finally:
        follow.terminate()
        follow.wait(10)
    numbers = [int(line.split()[1]) for _, line in got]
    assert numbers == list(range(numbers[0], numbers[0] + 5)), got  # --tail=1, then in order
    assert got[-1][0] - got[0][0] > 0.8  # written 0.3 s apart: streamed, not one late dump


def test_missing_image_is_err_image_pull_with_an_event(v1):
    absent = {"name": "ghost", "image": "bosun/not-here:1"}
    v1.create_namespaced_pod(NS, make_pod("ghost", "minion-1", [absent]))
    waiting = wait_for(lambda: (lambda s: s.state.waiting if s and s.state.waiting and
                                s.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff")
                                else None)(
        (v1.read_namespaced_pod("ghost", NS).status.container_statuses or [None])[0]), 30,
        "ErrImagePull")
    assert "bosun/not-here:1" in waiting.message
    events = v1.list_namespaced_event(NS, field_selector="involvedObject.name=ghost").items
    assert any(e.type == "Warning" and "bosun/not-here:1" in e.message for e in events)


def test_sigkilled_controller_adopts_running_containers(v1, lab, fleet):
    v1.create_namespaced_pod(NS, make_pod("survivor", "minion-1", [web()]))
    uid = running(v1, "survivor").metadata.uid
    before = sorted(c["Id"] for c in containers_of(fleet, "minion-1", uid))
    pid = running_pid(lab.spec.api_pid_file, build.api_program())
    os.kill(pid, signal.SIGKILL)
    build.ensure_api_server(lab.spec)
    time.sleep(4)  # a few passes of the new controller
    after = sorted(c["Id"] for c in containers_of(fleet, "minion-1", uid))
    assert after == before
    pod = running(v1, "survivor")
    assert pod.status.container_statuses[0].restart_count == 0
