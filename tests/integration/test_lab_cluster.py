"""The lab as a cluster: every minion reached through its inventory entry over SSH, its own
Docker, and pods on one minion reachable by pod IP from containers on the others."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from bosun.lab import status
from bosun.lab.build import SSHD, ensure_sshd
from bosun.lab.system import running_pid, stop_pid
from bosun.minion import ChangedHostKey, Fleet, Minion

from .test_kubelet import http_get

PAGE = "page-of-{name}"
# busybox httpd serving a page that names the minion it runs on.
SERVE = "echo {page} > /www/index.html && exec httpd -f -p 80 -h /www"
FETCH = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {ip} 80"


@pytest.fixture(scope="module")
def fleet(lab):
    with Fleet(lab.inventory.minions(), timeout=60) as fleet:
        yield fleet


@pytest.fixture(scope="module")
def web_pods(fleet):
    """One httpd container per minion; yields {minion name: pod IP}; removes them after."""

    def start(minion):
        page = PAGE.format(name=minion.name)
        minion.check(["docker", "run", "-d", "--name", "lab-web", "bosun/busybox:1", "sh", "-c",
                      SERVE.format(page=page)])
        inspect = ["docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "lab-web"]
        return minion.check(inspect).stdout.decode().strip()

    started = fleet.map(start)
    try:
        yield {name: outcome.result() for name, outcome in started.items()}
    finally:
        fleet.map(lambda m: m.run(["docker", "rm", "-f", "lab-web"]))


def test_every_minion_is_its_own_host(lab, fleet):
    outcomes = fleet.map(lambda m: m.facts())
    facts = {name: outcome.result() for name, outcome in outcomes.items()}
    assert {f.hostname for f in facts.values()} == {m.name for m in lab.minions}
    assert len({f.machine_id for f in facts.values()}) == len(lab.minions)
    for f in facts.values():
        assert f.cpus >= 1 and f.memory_bytes > 0 and f.docker_version


def test_pod_ips_come_from_each_minions_pod_subnet(lab, web_pods):
    for minion in lab.minions:
        assert ipaddress.ip_address(web_pods[minion.name]) in ipaddress.ip_network(minion.pod_cidr)


def test_pods_reach_pods_on_other_minions_by_pod_ip(lab, fleet, web_pods):
    names = [m.name for m in lab.minions]
    for i, client in enumerate(names):
        server = names[(i + 1) % len(names)]
        reply = fleet[client].check(["docker", "exec", "lab-web", "sh", "-c",
                                     FETCH.format(ip=web_pods[server])])
        page = reply.stdout.decode()
        assert "200 OK" in page
        assert PAGE.format(name=server) in page


def test_this_machine_reaches_pods_directly(lab, web_pods):
    for minion in lab.minions:
        assert PAGE.format(name=minion.name) in http_get(web_pods[minion.name])


def test_lab_status_reports_every_minion(lab, capsys):
    assert status.show(lab.spec) == 0
    out = capsys.readouterr().out
    for minion in lab.minions:
        assert f"{minion.name}   {minion.address}:22" in out
    assert f"etcd {lab.spec.etcd_client_url}: healthy" in out
    assert f"API {lab.spec.api_url}: healthy" in out


def test_kubectl_works_from_a_plain_shell_with_the_labs_kubeconfig(lab, tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "KUBECONFIG": str(lab.spec.kubeconfig)}
    done = subprocess.run(["kubectl", "get", "namespaces", "-o", "name"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "namespace/default" in done.stdout.split()
    config = lab.spec.kubeconfig.read_text()
    assert "certificate-authority-data" in config and "insecure-skip-tls-verify" not in config


def _restart_sshd(lab, name: str) -> None:
    minion = lab.minion(name)
    pid = running_pid(minion.pid_file("sshd"), SSHD)
    assert pid is not None
    stop_pid(pid)
    ensure_sshd(lab.spec, minion)


def test_changed_host_key_is_refused_naming_the_minion(lab):
    name = "minion-3"
    address = next(a for a in lab.inventory.minions() if a.name == name)
    key = lab.minion(name).root / "etc-ssh" / "ssh_host_ed25519_key"
    saved = {path: path.read_bytes() for path in (key, key.with_suffix(".pub"))}
    try:
        for path in saved:
            path.unlink()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        _restart_sshd(lab, name)
        with pytest.raises(ChangedHostKey) as refused, Minion(address) as minion:
            minion.connect()
        assert name in str(refused.value)
        assert address.host in str(refused.value)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
        _restart_sshd(lab, name)
    with Minion(address) as minion:
        assert minion.check(["hostname"]).stdout.decode().strip() == name


def test_image_default_command_serves_its_page_and_applets_are_on_path(fleet):
    minion = fleet["minion-1"]
    found = minion.check(["docker", "run", "--rm", "bosun/busybox:1", "sh", "-c",
                          "which sh httpd nc hostname sleep wget"]).stdout.decode().split()
    assert [path.rsplit("/", 1)[1] for path in found] == ["sh", "httpd", "nc", "hostname",
                                                          "sleep", "wget"]
    minion.check(["docker", "run", "-d", "--name", "lab-default", "bosun/busybox:1"])
    try:
        ip = minion.check(["docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}",
                           "lab-default"]).stdout.decode().strip()
        assert "bosun/busybox:1" in http_get(ip)
    finally:
        minion.run(["docker", "rm", "-f", "lab-default"])
