"""`lab up`: build minions as namespaces on this machine, each a real host to the controller.

Every step first looks whether its result is already there, so `up` twice is harmless and an `up`
after a half-failed one finishes the job. Minions are built in parallel; the recorded LabSpec is
written before anything else so that `down` can always find what was made.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import ssl
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bosun.bootstrap import ROOT
from bosun.lab import image
from bosun.lab.spec import MINION_BINDS, LabSpec, MinionSpec, render_inventory
from bosun.lab.system import (
    LabError,
    find_program,
    in_minion,
    in_netns,
    is_mount_point,
    link_exists,
    netns_exists,
    program,
    run,
    running_pid,
    spawn,
    stop_pid,
    wait_for,
)

SERVICE_NETWORK = "10.0.0.0/24"  # serve's default --service-cidr
SSHD = "sshd"
DOCKERD = "dockerd"
ETCD = "etcd"
HAPROXY = "haproxy"


def up(spec: LabSpec, log=print) -> None:
    """Bring the lab described by spec to life (or finish bringing it up). Raises LabError."""
    previous = LabSpec.load(spec.state_dir)
    if previous is not None and previous.index != spec.index:
        raise LabError(f"{spec.state_dir} holds lab index {previous.index}; run `lab down` first")
    if previous is not None and previous.minions > spec.minions:
        raise LabError(f"the lab has {previous.minions} minions; `lab down` before shrinking it")
    spec.save()
    _ensure_ssh_key(spec)
    _ensure_control_network(spec)
    _ensure_private_ns_dir(spec)
    rootfs_tar = image.build_rootfs_tar(spec.image_dir)
    minions = spec.all_minions()
    with ThreadPoolExecutor(max_workers=len(minions)) as pool:
        list(pool.map(lambda m: _ensure_minion(spec, m), minions))
    image.distribute(spec, rootfs_tar, minions)
    _ensure_known_hosts(spec, minions)
    spec.inventory_path.write_text(render_inventory(spec))
    _ensure_etcd(spec)
    ensure_api_server(spec)
    log(f"lab {spec.name}: {len(minions)} minions up; inventory {spec.inventory_path}")
    log(f"kubectl: export KUBECONFIG={spec.kubeconfig}")


# -- the control network: a bridge in its own namespace, one link to the host ------------------

def _ensure_control_network(spec: LabSpec) -> None:
    ctl = spec.ctl_netns
    if not netns_exists(ctl):
        run(["ip", "netns", "add", ctl])
    run(["ip", "-n", ctl, "link", "set", "lo", "up"])
    if not link_exists(spec.bridge, ctl):
        run(["ip", "-n", ctl, "link", "add", spec.bridge, "type", "bridge"])
    run(["ip", "-n", ctl, "link", "set", spec.bridge, "up"])
    if not link_exists(spec.host_veth):
        run(["ip", "link", "add", spec.host_veth, "type", "veth", "peer", "name",
             spec.host_veth_peer, "netns", ctl])
    run(["ip", "-n", ctl, "link", "set", spec.host_veth_peer, "master", spec.bridge, "up"])
    prefix = spec.network.prefixlen
    run(["ip", "addr", "replace", f"{spec.host_address}/{prefix}", "dev", spec.host_veth])
    run(["ip", "link", "set", spec.host_veth, "up"])


def _ensure_private_ns_dir(spec: LabSpec) -> None:
    """Namespace files can only be bind-mounted under a private mount."""
    spec.ns_dir.mkdir(parents=True, exist_ok=True)
    if not is_mount_point(spec.ns_dir):
        run(["mount", "--bind", str(spec.ns_dir), str(spec.ns_dir)])
    run(["mount", "--make-private", str(spec.ns_dir)])


# -- one minion ---------------------------------------------------------------------------------

def _ensure_minion(spec: LabSpec, minion: MinionSpec) -> None:
    _write_minion_files(spec, minion)
    _ensure_minion_network(spec, minion)
    _ensure_minion_namespaces(spec, minion)
    ensure_sshd(spec, minion)
    _ensure_dockerd(spec, minion)
    _ensure_pod_rules(spec, minion)


def _write_minion_files(spec: LabSpec, minion: MinionSpec) -> None:
    root = minion.root
    for folder, _ in MINION_BINDS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "run" / "sshd").mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "root" / ".bashrc").write_text("")  # keep root's pyenv init out of every SSH exec
    machine_id = root / "machine-id"
    if not machine_id.exists():
        machine_id.write_text(secrets.token_hex(16) + "\n")
    daemon = {
        "bip": f"{minion.bridge_ip}/{minion.pod_cidr.split('/')[1]}",
        "ip-masq": False,
        "cgroup-parent": minion.cgroup_parent,
        "log-level": "warn",
        # Published ports through iptables alone, and hairpin mode on every bridge port: in
        # iptables proxy mode a pod's connection to its own service may come back to it.
        "userland-proxy": False,
    }
    (root / "etc-docker" / "daemon.json").write_text(json.dumps(daemon, indent=2) + "\n")
    ssh = root / "etc-ssh"
    host_key = ssh / "ssh_host_ed25519_key"
    if not host_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", minion.name, "-f",
             str(host_key)])
    (ssh / "sshd_config").write_text(_sshd_config(minion))
    keys = ssh / "authorized_keys"
    keys.write_text(Path(f"{spec.ssh_key}.pub").read_text())
    keys.chmod(0o600)


def _sshd_config(minion: MinionSpec) -> str:
    return "\n".join([
        f"ListenAddress {minion.address}:22",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "AuthorizedKeysFile /etc/ssh/authorized_keys",
        "PidFile /run/sshd.pid",
        "MaxSessions 100",
        "MaxStartups 100:30:200",
        "PrintMotd no",
        "Subsystem sftp internal-sftp",
        "",
    ])


def _ensure_minion_network(spec: LabSpec, minion: MinionSpec) -> None:
    ns, ctl = minion.netns, spec.ctl_netns
    if not netns_exists(ns):
        run(["ip", "netns", "add", ns])
    if not link_exists(minion.veth, ctl):
        run(["ip", "link", "add", minion.veth, "netns", ctl, "type", "veth", "peer", "name",
             "eth0", "netns", ns])
    run(["ip", "-n", ctl, "link", "set", minion.veth, "master", spec.bridge, "up"])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", ns, "addr", "replace", f"{minion.address}/{spec.network.prefixlen}",
         "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    # No default route: a minion reaches only the lab. Pod subnets of the others via their hosts.
    for other in spec.all_minions():
        if other.index != minion.index:
            run(["ip", "-n", ns, "route", "replace", other.pod_cidr, "via", other.address])
    # Service VIPs are routed out of eth0 so that a minion's own connections to one pass the
    # routing decision and reach the nat OUTPUT hook (Bosun's REDIRECT); real hosts have a
    # default route for that.
    run(["ip", "-n", ns, "route", "replace", SERVICE_NETWORK, "dev", "eth0"])
    # The host reaches every pod subnet through its minion.
    run(["ip", "route", "replace", minion.pod_cidr, "via", minion.address, "dev",
         spec.host_veth])


def _ensure_minion_namespaces(spec: LabSpec, minion: MinionSpec) -> None:
    """A persistent mount + UTS namespace with the minion's own folders over the host's."""
    mnt = spec.ns_dir / f"{minion.name}.mnt"
    uts = spec.ns_dir / f"{minion.name}.uts"
    if is_mount_point(mnt) and is_mount_point(uts):
        return
    mnt.touch()
    uts.touch()
    binds = [*MINION_BINDS, ("machine-id", "/etc/machine-id")]
    args = [word for pair in binds for word in pair]
    # Paths travel as positional arguments: nothing is interpolated into the script. Sources are
    # relative to the minion's root (the working directory), which stays reachable even when an
    # earlier bind hides its path (a lab folder under /tmp, say). A mount point missing on this
    # machine (/var/lib/docker before docker ever ran) is made empty.
    script = ('cd "$1" && hostname "$2" && shift 2 && while [ $# -gt 0 ]; do '
              '[ -e "$2" ] || mkdir -p "$2"; mount --bind "$1" "$2" || exit 1; shift 2; done')
    try:
        run(["nsenter", f"--net=/run/netns/{minion.netns}", "unshare", f"--mount={mnt}",
             f"--uts={uts}", "--propagation", "private", "sh", "-c", script, "sh", str(minion.root),
             minion.name, *args])
    except LabError:
        # Half-bound namespaces would let this minion's daemons write to the host's folders.
        for path in (mnt, uts):
            if is_mount_point(path):
                run(["umount", str(path)])
        raise


def ensure_sshd(spec: LabSpec, minion: MinionSpec) -> None:
    """Start the minion's sshd unless it runs; return once it accepts connections."""
    if running_pid(minion.pid_file("sshd"), SSHD):
        return
    minion.pid_file("sshd").unlink(missing_ok=True)
    # sshd must be started by absolute path; it forks into the background itself.
    argv = [program(SSHD), "-f", "/etc/ssh/sshd_config"]
    run(in_minion(minion.netns, spec.ns_dir, minion.name, argv))
    wait_for(lambda: _accepts(minion.address, 22), 10, f"sshd on {minion.name}")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _ensure_dockerd(spec: LabSpec, minion: MinionSpec) -> None:
    if running_pid(minion.pid_file("docker"), DOCKERD) and docker_answers(minion.docker_socket):
        return
    spawn(in_minion(minion.netns, spec.ns_dir, minion.name, [program(DOCKERD)]),
          minion.root / "dockerd.log")
    wait_for(lambda: docker_answers(minion.docker_socket), 30,
             f"dockerd on {minion.name} (log: {minion.root / 'dockerd.log'})")


def docker_answers(sock: Path) -> bool:
    """True when a dockerd answers /_ping on the unix socket."""
    conn = _UnixHTTPConnection(str(sock))
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=2)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(2)
        self.sock.connect(self._path)


def _ensure_pod_rules(spec: LabSpec, minion: MinionSpec) -> None:
    """Let pods reach pods (and the host reach pods) on every minion; masquerade the rest."""
    pods, lab = str(spec.pod_network), str(spec.network)
    rules = [
        ("filter", "DOCKER-USER", ["-s", pods, "-d", pods, "-j", "ACCEPT"]),
        ("filter", "DOCKER-USER", ["-s", lab, "-d", pods, "-j", "ACCEPT"]),
        ("nat", "POSTROUTING", ["-s", minion.pod_cidr, "!", "-d", pods, "-j", "MASQUERADE"]),
    ]
    for table, chain, rule in rules:
        present = run(in_netns(minion.netns, ["iptables", "-t", table, "-C", chain, *rule]),
                      check=False)
        if present.returncode != 0:
            verb = "-I" if chain == "DOCKER-USER" else "-A"
            run(in_netns(minion.netns, ["iptables", "-t", table, verb, chain, *rule]))


# -- shared pieces ------------------------------------------------------------------------------

def _ensure_ssh_key(spec: LabSpec) -> None:
    if not spec.ssh_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{spec.name}-lab", "-f",
             str(spec.ssh_key)])


def _ensure_known_hosts(spec: LabSpec, minions: list[MinionSpec]) -> None:
    lines = []
    for minion in minions:
        public = minion.root / "etc-ssh" / "ssh_host_ed25519_key.pub"
        key_type, key = public.read_text().split()[:2]
        lines.append(f"{minion.address} {key_type} {key}\n")
    spec.known_hosts.write_text("".join(lines))


def _ensure_etcd(spec: LabSpec) -> None:
    if running_pid(spec.etcd_pid_file, ETCD) and etcd_healthy(spec):
        return
    spec.etcd_dir.mkdir(parents=True, exist_ok=True)
    spec.etcd_dir.chmod(0o700)
    argv = [
        program(ETCD), "--name", spec.name, "--data-dir", str(spec.etcd_dir / "data"),
        "--listen-client-urls", spec.etcd_client_url,
        "--advertise-client-urls", spec.etcd_client_url,
        "--listen-peer-urls", spec.etcd_peer_url,
        "--initial-advertise-peer-urls", spec.etcd_peer_url,
        "--initial-cluster", f"{spec.name}={spec.etcd_peer_url}",
        "--log-level", "warn",
    ]
    process = spawn(argv, spec.etcd_dir / "etcd.log")
    spec.etcd_pid_file.write_text(f"{process.pid}\n")
    wait_for(lambda: etcd_healthy(spec) or process.poll() is not None, 20, "etcd")
    if process.poll() is not None:
        raise LabError(f"etcd exited with {process.returncode}; log: {spec.etcd_dir / 'etcd.log'}")


def api_program() -> str:
    """What /proc/PID/exe of a running `orchestrator.py serve` points at."""
    return os.path.realpath(sys.executable)


def ensure_api_server(spec: LabSpec) -> None:
    """Start Bosun's API server for the lab unless it runs; write the lab's kubeconfig."""
    if running_pid(spec.api_pid_file, api_program()) and api_healthy(spec):
        return
    spec.api_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(ROOT / "orchestrator.py"), "serve",
            "--data-dir", str(spec.api_dir), "--etcd", spec.etcd_client_url,
            "--port", str(spec.api_port), "--kubeconfig", str(spec.kubeconfig),
            "--san", spec.host_address, "--inventory", str(spec.inventory_path)]
    process = spawn(argv, spec.api_dir / "serve.log")
    spec.api_pid_file.write_text(f"{process.pid}\n")
    wait_for(lambda: api_healthy(spec) or process.poll() is not None, 30, "the API server")
    if process.poll() is not None:
        raise LabError(f"the API server exited with {process.returncode}; log: "
                       f"{spec.api_dir / 'serve.log'}")


def set_proxy_mode(spec: LabSpec, mode: str | None) -> None:
    """Put every minion of the lab in proxy `mode` (bosun_proxy_mode in the inventory's
    [minions:vars]; None: unset, the default haproxy) and restart the lab's API server, which
    reads the inventory when it starts. A later `lab up` writes the inventory afresh."""
    lines = [line for line in spec.inventory_path.read_text().splitlines()
             if not line.startswith("bosun_proxy_mode=")]
    spec.inventory_path.write_text(
        "\n".join([*lines, *([f"bosun_proxy_mode={mode}"] if mode else [])]) + "\n")
    pid = running_pid(spec.api_pid_file, api_program())
    if pid is not None:
        stop_pid(pid, timeout=15)
    ensure_api_server(spec)


def api_healthy(spec: LabSpec) -> bool:
    ca = spec.api_dir / "pki" / "ca.crt"
    if not ca.exists():
        return False
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(f"{spec.api_url}/healthz", timeout=1,
                                    context=context) as reply:
            return reply.status == 200
    except (OSError, ValueError):
        return False


def etcd_healthy(spec: LabSpec) -> bool:
    try:
        with urllib.request.urlopen(f"{spec.etcd_client_url}/health", timeout=1) as reply:
            return json.loads(reply.read()).get("health") == "true"
    except (OSError, ValueError):
        return False


def missing_tools() -> list[str]:
    """Programs the lab needs that are not installed."""
    wanted = ["ip", "nsenter", "unshare", "ssh-keygen", "iptables", SSHD, DOCKERD, ETCD,
              HAPROXY, "busybox", "docker"]
    return [tool for tool in wanted if find_program(tool) is None]

