"""Local operations the lab is built from: commands, namespaces, mounts and pid files.

Every command is an argv list run without a shell. Processes are only ever found through the pid
files the lab wrote and checked against the program they should be running, never by name: the
PID namespace is shared by every minion and the host.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bosun.errors import BosunError


class LabError(BosunError):
    """A step of building or removing the lab failed; the message says which command."""


def run(argv: Sequence[str], *, input: bytes | None = None, check: bool = True,
        timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run argv on this machine. Raises LabError with the command and its stderr on failure."""
    try:
        done = subprocess.run(list(argv), input=input, capture_output=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LabError(f"{' '.join(argv)}: {error}") from error
    if check and done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise LabError(f"{' '.join(argv)}: exit {done.returncode}: {stderr}")
    return done


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_program(name: str) -> str | None:
    """Absolute path of a program, also in the sbin folders a non-login PATH may lack."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}")


def program(name: str) -> str:
    """Absolute path of a program. Raises LabError if it is not installed."""
    found = find_program(name)
    if found is None:
        raise LabError(f"{name} not found: run ./orchestrator.py setup first")
    return found


def in_netns(netns: str, argv: Sequence[str]) -> list[str]:
    """argv run inside a network namespace only (enough for ip, iptables)."""
    return ["nsenter", f"--net=/run/netns/{netns}", "--", *argv]


def in_minion(netns: str, ns_dir: Path, name: str, argv: Sequence[str]) -> list[str]:
    """argv run inside a minion: its network, mount and UTS namespaces."""
    return [
        "nsenter",
        f"--net=/run/netns/{netns}",
        f"--mount={ns_dir / (name + '.mnt')}",
        f"--uts={ns_dir / (name + '.uts')}",
        "--",
        *argv,
    ]


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def link_exists(name: str, netns: str | None = None) -> bool:
    argv = ["ip", "link", "show", name] if netns is None else ["ip", "-n", netns, "link", "show",
                                                                 name]
    return run(argv, check=False).returncode == 0


def mount_points() -> set[str]:
    """Every mount point of this process's mount namespace."""
    points = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        points.add(line.split()[4].replace("\\040", " "))
    return points


def is_mount_point(path: Path) -> bool:
    return str(path) in mount_points()


# -- processes by pid file ----------------------------------------------------------------------

def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def process_runs(pid: int | None, program: str) -> bool:
    """True if pid is alive and runs `program` (guards against a reused pid)."""
    if pid is None:
        return False
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    return os.path.basename(exe.removesuffix(" (deleted)")) == os.path.basename(program)


def running_pid(pid_file: Path, program: str) -> int | None:
    pid = read_pid(pid_file)
    return pid if process_runs(pid, program) else None


def wait_for(condition, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll condition() until true. Raises LabError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == pid
    except ChildProcessError:
        return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def stop_pid(pid: int, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after timeout seconds; returns once the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 5
        time.sleep(0.02)


def stop_pids(pids: list[int], timeout: float = 5) -> None:
    """stop_pid for many processes at once: all get SIGTERM together, stragglers SIGKILL."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if not _gone(pid)]
        time.sleep(0.02)
    for pid in alive:
        stop_pid(pid, timeout=0)


def netns_pids(netns: str) -> list[int]:
    """Pids of every process inside a network namespace the lab made."""
    done = run(["ip", "netns", "pids", netns], check=False)
    return [int(word) for word in done.stdout.split()]


def spawn(argv: Sequence[str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start a long-running daemon in its own session, output appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
