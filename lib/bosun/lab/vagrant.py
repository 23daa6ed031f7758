"""The Vagrant lab's inventory: what vagrant/provision/master.sh writes to inventory/vagrant.ini.

The Vagrantfile (vagrant/lab.rb) decides names, addresses and pod subnets and passes them to
master.sh, which runs `python -m bosun.lab.vagrant` under Bosun's venv: this module checks them
and prints the Ansible INI inventory. Rendering is pure; the command line only parses and prints.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bosun.errors import ConfigError

# A hostname label (RFC 1123), as Kubernetes wants node names to be.
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_PATH = re.compile(r"/[-_./A-Za-z0-9]*")


@dataclass(frozen=True)
class VagrantHost:
    """One machine of the Vagrant lab; minions have a pod subnet, the master none."""

    name: str
    address: str
    pod_cidr: str | None = None


def render_inventory(master: VagrantHost, minions: Sequence[VagrantHost], shared_dir: str) -> str:
    """The lab's Ansible INI inventory. Raises ConfigError for a bad name, address or subnet.

    The master logs in to every minion as root with the key pair in `shared_dir`, and checks host
    keys (strictly) against the known_hosts the minions write there.
    """
    _check(master, minions, shared_dir)
    lines = [
        "# Written by vagrant/provision/master.sh on every provisioning run; edits are lost.",
        "[masters]",
        f"{master.name} ansible_host={master.address}",
        "",
        "[minions]",
        *(f"{m.name} ansible_host={m.address} pod_cidr={m.pod_cidr}" for m in minions),
        "",
        "[minions:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={shared_dir}/id_ed25519",
        f"bosun_known_hosts_file={shared_dir}/known_hosts",
        "bosun_host_key_policy=strict",
        "",
    ]
    return "\n".join(lines)


def _check(master: VagrantHost, minions: Sequence[VagrantHost], shared_dir: str) -> None:
    if not minions:
        raise ConfigError("the Vagrant lab needs at least one minion")
    if not _PATH.fullmatch(shared_dir):
        raise ConfigError(f"shared folder must be an absolute path of plain characters, "
                          f"not {shared_dir!r}")
    hosts = [master, *minions]
    for host in hosts:
        _check_host(host, needs_pod_cidr=host is not master)
    for what in ("name", "address"):
        values = [getattr(h, what) for h in hosts]
        if len(set(values)) != len(values):
            raise ConfigError(f"two machines share one {what}: {values}")
    subnets = [ipaddress.IPv4Network(m.pod_cidr) for m in minions]
    for i, subnet in enumerate(subnets):
        for other in subnets[i + 1:]:
            if subnet.overlaps(other):
                raise ConfigError(f"pod subnets {subnet} and {other} overlap")


def _check_host(host: VagrantHost, needs_pod_cidr: bool) -> None:
    if not _NAME.fullmatch(host.name):
        raise ConfigError(f"{host.name!r} is not a host name (lower-case letters, digits, '-')")
    try:
        ipaddress.IPv4Address(host.address)
    except ValueError as error:
        raise ConfigError(f"{host.name}: address {host.address!r}: {error}") from error
    if not needs_pod_cidr:
        return
    try:
        subnet = ipaddress.IPv4Network(host.pod_cidr or "", strict=True)
    except ValueError as error:
        raise ConfigError(f"{host.name}: pod subnet {host.pod_cidr!r}: {error}") from error
    if host.pod_cidr != str(subnet) or subnet.prefixlen > 30:
        raise ConfigError(f"{host.name}: pod subnet {host.pod_cidr!r} must be written like "
                          "10.244.1.0/24, with room for the bridge and pods (/30 or larger)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bosun.lab.vagrant",
        description="Print the Vagrant lab's inventory (vagrant/provision/master.sh runs this).")
    parser.add_argument("--shared", required=True, metavar="DIR",
                        help="folder holding id_ed25519 and known_hosts on the master")
    parser.add_argument("--master", required=True, nargs=2, metavar=("NAME", "ADDRESS"))
    parser.add_argument("--minion", required=True, nargs=3, action="append", dest="minions",
                        metavar=("NAME", "ADDRESS", "POD_CIDR"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print the inventory for the machines on the command line; 2 and a message if invalid."""
    args = _parser().parse_args(argv)
    master = VagrantHost(*args.master)
    minions = [VagrantHost(*minion) for minion in args.minions]
    try:
        text = render_inventory(master, minions, args.shared)
    except ConfigError as error:
        print(f"bosun.lab.vagrant: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
