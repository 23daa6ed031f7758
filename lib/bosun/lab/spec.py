"""What a lab is made of: every name, address, path and port, derived from a few settings.

Pure: nothing here touches the machine. `up`, `down` and `status` all work from one LabSpec,
which `up` records in the lab folder first, so that `down` removes exactly what `up` made (or
began to make), by recorded name, even after a half-failed `up`.

Lab index k (0 for the default lab) keeps a second lab (the test suite's) apart from the user's:
    bridge network 10.(200+k).0.0/24, minion i at .(10+i), the host at .254
    pod subnet of minion i 10.(244+k).i.0/24
    etcd on 127.0.0.1, client port 23790+10k, peer port 23791+10k
    Bosun's API server on https://127.0.0.1:(6443+k), kubeconfig in the lab folder
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bosun.errors import ConfigError

MAX_MINIONS = 9
MAX_INDEX = 9
SPEC_FILE = "lab.json"


@dataclass(frozen=True)
class MinionSpec:
    """One minion: a network, mount and UTS namespace with its own sshd and dockerd."""

    index: int
    name: str  # hostname and inventory name: minion-1
    netns: str  # bosun-minion-1
    address: str  # 10.200.0.11
    pod_cidr: str  # 10.244.1.0/24
    bridge_ip: str  # 10.244.1.1 (docker0 inside the minion)
    veth: str  # host end of the pair, lives in the control namespace's bridge
    cgroup_parent: str
    root: Path  # the minion's own folders, bound over /run, /var/lib/docker, ...

    @property
    def docker_socket(self) -> Path:
        """The minion's dockerd socket, as seen from the host."""
        return self.root / "run" / "docker.sock"

    def pid_file(self, daemon: str) -> Path:
        """Where a daemon inside the minion writes its pid, as seen from the host."""
        return self.root / "run" / f"{daemon}.pid"


# Folders of a minion bound over the host's: (folder under the minion's root, mount point).
MINION_BINDS: tuple[tuple[str, str], ...] = (
    ("run", "/run"),
    ("docker", "/var/lib/docker"),
    ("etc-docker", "/etc/docker"),
    ("etc-haproxy", "/etc/haproxy"),
    ("etc-ssh", "/etc/ssh"),
    ("root", "/root"),
    ("tmp", "/tmp"),
    ("log", "/var/log"),
)


@dataclass(frozen=True)
class LabSpec:
    """Settings of one lab; everything else is derived from them."""

    state_dir: Path
    minions: int = 3
    index: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.minions <= MAX_MINIONS:
            raise ConfigError(f"a lab has 1 to {MAX_MINIONS} minions, not {self.minions}")
        if not 0 <= self.index <= MAX_INDEX:
            raise ConfigError(f"lab index must be 0 to {MAX_INDEX}, not {self.index}")

    # -- names -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return "bosun" if self.index == 0 else f"bosun{self.index}"

    @property
    def link_tag(self) -> str:
        """Short prefix for link names (15 characters at most in Linux)."""
        return f"bsn{self.index}"

    @property
    def ctl_netns(self) -> str:
        return f"{self.name}-ctl"

    @property
    def bridge(self) -> str:
        return f"{self.link_tag}-br"

    @property
    def host_veth(self) -> str:
        """The host's end of the link into the lab bridge."""
        return f"{self.link_tag}-host"

    @property
    def host_veth_peer(self) -> str:
        return f"{self.link_tag}-hostp"

    # -- addresses ---------------------------------------------------------------------------
    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"10.{200 + self.index}.0.0/24")

    @property
    def pod_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"10.{244 + self.index}.0.0/16")

    @property
    def host_address(self) -> str:
        return str(self.network.network_address + 254)

    @property
    def etcd_client_url(self) -> str:
        return f"http://127.0.0.1:{23790 + 10 * self.index}"

    @property
    def etcd_peer_url(self) -> str:
        return f"http://127.0.0.1:{23791 + 10 * self.index}"

    # -- files -------------------------------------------------------------------------------
    @property
    def ns_dir(self) -> Path:
        """Private bind mount holding the minions' persistent mount and UTS namespace files."""
        return self.state_dir / "ns"

    @property
    def inventory_path(self) -> Path:
        return self.state_dir / "inventory.ini"

    @property
    def ssh_key(self) -> Path:
        return self.state_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def etcd_dir(self) -> Path:
        return self.state_dir / "etcd"

    @property
    def etcd_pid_file(self) -> Path:
        return self.state_dir / "etcd.pid"

    @property
    def api_dir(self) -> Path:
        """The lab's API server: certificates, tokens, pid file and log."""
        return self.state_dir / "api"

    @property
    def api_pid_file(self) -> Path:
        return self.api_dir / "serve.pid"

    @property
    def api_port(self) -> int:
        return 6443 + self.index

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def image_dir(self) -> Path:
        return self.state_dir / "image"

    def minion(self, i: int) -> MinionSpec:
        name = f"minion-{i}"
        pods = ipaddress.IPv4Network(f"10.{244 + self.index}.{i}.0/24")
        return MinionSpec(
            index=i,
            name=name,
            netns=f"{self.name}-{name}",
            address=str(self.network.network_address + 10 + i),
            pod_cidr=str(pods),
            bridge_ip=str(pods.network_address + 1),
            veth=f"{self.link_tag}-m{i}",
            cgroup_parent=f"{self.name}-{name}",
            root=self.state_dir / "minions" / name,
        )

    def all_minions(self) -> list[MinionSpec]:
        return [self.minion(i) for i in range(1, self.minions + 1)]

    # -- persistence -------------------------------------------------------------------------
    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record = asdict(self) | {"state_dir": str(self.state_dir)}
        (self.state_dir / SPEC_FILE).write_text(json.dumps(record, indent=2) + "\n")

    @classmethod
    def load(cls, state_dir: Path) -> LabSpec | None:
        """The spec `up` recorded in state_dir, or None when no lab was begun there."""
        path = state_dir / SPEC_FILE
        if not path.exists():
            return None
        record = json.loads(path.read_text())
        return cls(state_dir=state_dir, minions=record["minions"], index=record["index"])


def render_inventory(spec: LabSpec) -> str:
    """The lab's Ansible INI inventory: every minion, its address, pod subnet and SSH settings."""
    lines = [
        "# Written by `orchestrator.py lab up`; removed by `lab down`.",
        "[minions]",
    ]
    for minion in spec.all_minions():
        lines.append(
            f"{minion.name} ansible_host={minion.address} pod_cidr={minion.pod_cidr}"
        )
    lines += [
        "",
        "[minions:vars]",
        "ansible_user=root",
        "ansible_port=22",
        f"ansible_ssh_private_key_file={spec.ssh_key}",
        f"bosun_known_hosts_file={spec.known_hosts}",
        "bosun_host_key_policy=strict",
        "",
    ]
    return "\n".join(lines)
