"""Service proxying in the lab: a service VIP from every minion and every container rotates over
pods on all minions; NodePort answers on every minion's address; Bosun's rules only."""

from __future__ import annotations

import socket
from collections import Counter

import pytest
from kubernetes import client, config

from bosun.minion import Fleet

from .test_kubelet import NS, wait_for

FETCH = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port} | tail -n 1"
SERVE = "hostname > /www/index.html && exec httpd -f -p 8080 -h /www"


@pytest.fixture(scope="module")
def v1(lab):
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
    wait_for(lambda: (lambda ep: ep.subsets and len(ep.subsets[0].addresses or []) == 3)(
        v1.read_namespaced_endpoints("echo", NS)) if _exists(v1) else False, 90,
        "3 ready endpoints")
    pods = {p.metadata.name: p.spec.node_name for p in
            v1.list_namespaced_pod(NS, label_selector="app=echo").items}
    yield service, pods
    v1.delete_namespaced_service("echo", NS)
    v1.delete_namespaced_replication_controller("echo", NS)


def _exists(v1) -> bool:
    try:
        v1.read_namespaced_endpoints("echo", NS)
    except client.ApiException:
        return False
    return True


def _answers(minion, argv) -> Counter:
    return Counter(line for line in minion.check(argv, timeout=120).text.splitlines() if line)


def test_vip_rotates_over_pods_on_all_minions_from_minions_and_containers(lab, echo_service):
    service, pods = echo_service
    vip = service.spec.cluster_ip
    assert len(set(pods.values())) == 3, pods  # one pod per minion (spread)
    loop = f"for i in $(seq 30); do {FETCH.format(ip=vip, port=80)}; done"
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            from_host = wait_for(lambda m=minion: (lambda c: c if set(c) == set(pods) else None)(
                _answers(m, ["busybox", "sh", "-c", loop])), 30, f"the VIP from {minion.name}")
            assert sum(from_host.values()) == 30
            from_container = _answers(minion, ["docker", "run", "--rm", "bosun/busybox:1",
                                               "sh", "-c", loop])
            assert set(from_container) == set(pods) and sum(from_container.values()) == 30


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
