"""A real OpenSSH server on 127.0.0.1 for the minion tests, in a temp folder, stopped by pid.

Own host key, authorized key and known_hosts; it can regenerate its host key and be restarted
(killing the listener and its session processes, as a reboot of a minion would).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without it


@dataclass(frozen=True)
class Address:
    """Stand-in with bosun.inventory.MinionAddress's fields (all bosun.minion reads)."""

    name: str
    host: str
    port: int
    user: str
    private_key_file: str | None
    known_hosts_file: str | None
    host_key_policy: str = "strict"
    pod_cidr: str = "10.244.1.0/24"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True
    )


def key_fingerprint(pub: Path) -> str:
    """ssh-keygen's own SHA256 fingerprint, to compare ours with."""
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], check=True, capture_output=True)
    return out.stdout.decode().split()[1]


def children(pid: int) -> list[int]:
    """Every descendant of pid, found by parent pid in /proc (never by process name)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


class LocalSSHD:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.host_key = root / "ssh_host_ed25519_key"
        self.client_key = root / "id_ed25519"
        self.known_hosts = root / "known_hosts"
        self.pid_file = root / "sshd.pid"
        self.config = root / "sshd_config"
        self.log = root / "sshd.log"
        self.proc: subprocess.Popen | None = None
        keygen(self.host_key)
        keygen(self.client_key)
        (root / "authorized_keys").write_bytes(self.client_key.with_suffix(".pub").read_bytes())
        self.config.write_text(
            f"ListenAddress 127.0.0.1:{self.port}\n"
            f"HostKey {self.host_key}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
            f"PidFile {self.pid_file}\n"
            "UsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nStrictModes no\nMaxSessions 100\n"
            "MaxStartups 100:30:200\nSubsystem sftp internal-sftp\n"
        )
        self.trust_current_key()

    def known_hosts_line(self) -> str:
        kind, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {blob}\n"

    def trust_current_key(self) -> None:
        self.known_hosts.write_text(self.known_hosts_line())

    def fingerprint(self) -> str:
        return key_fingerprint(self.host_key.with_suffix(".pub"))

    def address(self, **changes: object) -> Address:
        fields: dict = dict(
            name="minion-t",
            host="127.0.0.1",
            port=self.port,
            user="root",
            private_key_file=str(self.client_key),
            known_hosts_file=str(self.known_hosts),
        )
        fields.update(changes)
        return Address(**fields)

    def start(self) -> None:
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(self.config), "-E", str(self.log)], stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                if self.pid_file.exists():
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        """Kill the listener and every session it forked, so kept-open connections drop."""
        if self.proc is None:
            return
        pid = int(self.pid_file.read_text()) if self.pid_file.exists() else self.proc.pid
        for p in [*children(pid), pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        self.proc = None
        self.pid_file.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def regenerate_host_key(self) -> None:
        keygen(self.host_key)
        self.restart()


_made_privsep_dir = False


def sshd_fixture() -> object:
    """A function-scoped pytest fixture giving a started LocalSSHD, stopped afterwards.

    Test modules assign it (`sshd = sshd_fixture()`) rather than import one fixture object.
    """

    @pytest.fixture
    def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSSHD]:
        global _made_privsep_dir
        if not PRIVSEP_DIR.exists():
            _made_privsep_dir = True
            atexit.register(_remove_privsep_dir)
        server = LocalSSHD(tmp_path_factory.mktemp("sshd"))
        server.start()
        try:
            yield server
        finally:
            server.stop()
            shutil.rmtree(server.root)

    return sshd


def _remove_privsep_dir() -> None:
    if _made_privsep_dir:
        try:
            PRIVSEP_DIR.rmdir()  # only if we made it and it is still empty
        except OSError:
            pass
