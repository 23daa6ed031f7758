"""Facts about a minion (what a Node's status reports): one command round trip plus one Docker call.

`FACTS_ARGV` prints `key=value` lines; `parse_facts` is pure so it can be tested on captured output.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bosun.minion import commands
from bosun.minion.docker import MinionDocker
from bosun.minion.errors import FactsError
from bosun.minion.ssh import SSHConnection

# A constant script, passed as one argv element: nothing from the inventory is interpolated.
_SCRIPT = r"""
printf 'hostname=%s\n' "$(uname -n)"
printf 'kernel=%s\n' "$(uname -r)"
printf 'architecture=%s\n' "$(uname -m)"
printf 'cpus=%s\n' "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"
sed -n 's/^MemTotal: *\([0-9]*\) kB$/memory_kib=\1/p' /proc/meminfo
printf 'boot_id=%s\n' "$(cat /proc/sys/kernel/random/boot_id)"
printf 'machine_id=%s\n' "$(cat /etc/machine-id 2>/dev/null)"
sed -n 's/^PRETTY_NAME=/os_release_pretty_name=/p' /etc/os-release 2>/dev/null
exit 0
"""
FACTS_ARGV = ["sh", "-c", _SCRIPT]


@dataclass(frozen=True)
class MinionFacts:
    hostname: str
    cpus: int
    memory_bytes: int
    kernel: str
    os_name: str  # /etc/os-release PRETTY_NAME ("Linux" when absent, as os-release(5) says)
    architecture: str  # uname -m: x86_64, aarch64
    machine_id: str  # "" when /etc/machine-id is missing
    boot_id: str
    docker_version: str
    docker_api_version: str


def parse_facts(host: str, output: str, docker_version: Mapping[str, Any]) -> MinionFacts:
    """Build MinionFacts from FACTS_ARGV's stdout and dockerd's /version answer.

    Raises FactsError naming the host and the missing or malformed fact.
    """
    values: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()

    def need(key: str) -> str:
        if not values.get(key):
            raise FactsError(host, f"no {key} in the minion's answer")
        return values[key]

    def number(key: str) -> int:
        text = need(key)
        if not text.isdigit():
            raise FactsError(host, f"{key}={text!r} is not a whole number")
        return int(text)

    if not docker_version.get("Version"):
        raise FactsError(host, "dockerd's /version answer has no Version")
    return MinionFacts(
        hostname=need("hostname"),
        cpus=number("cpus"),
        memory_bytes=number("memory_kib") * 1024,
        kernel=need("kernel"),
        os_name=_unquote(values.get("os_release_pretty_name", "")) or "Linux",
        architecture=need("architecture"),
        machine_id=values.get("machine_id", ""),
        boot_id=need("boot_id"),
        docker_version=str(docker_version["Version"]),
        docker_api_version=str(docker_version.get("ApiVersion", "")),
    )


def _unquote(value: str) -> str:
    """os-release values are shell-quoted (`"Debian GNU/Linux 12 (bookworm)"`)."""
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return " ".join(parts)


def gather_facts(conn: SSHConnection, docker: MinionDocker, timeout: float = 30.0) -> MinionFacts:
    """Ask the minion (one command) and its dockerd (one /version call).

    Raises MinionUnreachable, RemoteCommandError, DockerAPIError, FactsError.
    """
    output = commands.check(conn, FACTS_ARGV, timeout=timeout).text
    return parse_facts(conn.address.name, output, docker.version())
