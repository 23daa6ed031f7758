"""`lab down`: remove everything `lab up` made, found by pid file and recorded name.

Works from the LabSpec that `up` recorded before it made anything, so a half-failed `up` is
removed just as well. Each step tolerates what is already gone. `leftovers` lists what remains
of a lab, for the tests and for `down` itself to check that nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bosun.lab.build import DOCKERD, ETCD, HAPROXY, SSHD, api_program, docker_answers
from bosun.lab.spec import LabSpec, MinionSpec
from bosun.lab.system import (
    LabError,
    is_mount_point,
    link_exists,
    mount_points,
    netns_exists,
    netns_pids,
    read_pid,
    run,
    running_pid,
    stop_pid,
    stop_pids,
)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def down(spec: LabSpec, log=print) -> None:
    """Remove the lab. Raises LabError if something could not be removed."""
    minions = spec.all_minions()
    # The API server first: its kubelet would go on removing (and starting) containers while
    # the minions are cleared ("removal of container ... is already in progress").
    _stop(spec.api_pid_file, api_program())
    with ThreadPoolExecutor(max_workers=len(minions)) as pool:
        list(pool.map(lambda m: _remove_minion(spec, m), minions))
    _stop(spec.etcd_pid_file, ETCD)
    if netns_exists(spec.ctl_netns):
        run(["ip", "netns", "del", spec.ctl_netns])
    if link_exists(spec.host_veth):
        # Deleting the control namespace takes the veth pair's other end with it, and the
        # kernel removes this end moments later: gone meanwhile is as good as deleted.
        done = run(["ip", "link", "del", spec.host_veth], check=False)
        if done.returncode != 0 and link_exists(spec.host_veth):
            raise LabError(f"ip link del {spec.host_veth}: "
                           f"{done.stderr.decode(errors='replace').strip()}")
    if is_mount_point(spec.ns_dir):
        run(["umount", str(spec.ns_dir)])
    left = leftovers(spec)
    if left:
        raise LabError("lab down left behind: " + "; ".join(left))
    shutil.rmtree(spec.state_dir, ignore_errors=False)
    log(f"lab {spec.name}: removed")


def _remove_minion(spec: LabSpec, minion: MinionSpec) -> None:
    if docker_answers(minion.docker_socket):
        _remove_containers(minion)
    for daemon, program in (("haproxy", HAPROXY), ("sshd", SSHD), ("docker", DOCKERD)):
        _stop(minion.pid_file(daemon), program)
    if netns_exists(minion.netns):
        # Whatever still runs in the minion's network (SSH sessions, containerd shims,
        # container processes) is the lab's own: it lives in a namespace the lab made.
        stop_pids(netns_pids(minion.netns))
    for suffix in (".mnt", ".uts"):
        path = spec.ns_dir / f"{minion.name}{suffix}"
        if is_mount_point(path):
            run(["umount", str(path)])
    if netns_exists(minion.netns):
        run(["ip", "netns", "del", minion.netns])
    _remove_cgroups(minion.cgroup_parent)


def _remove_containers(minion: MinionSpec) -> None:
    docker = ["docker", "-H", f"unix://{minion.docker_socket}"]
    ids = run([*docker, "ps", "-aq"]).stdout.decode().split()
    if ids:
        run([*docker, "rm", "-f", *ids], timeout=120)


def _stop(pid_file: Path, program: str) -> None:
    pid = running_pid(pid_file, program)
    if pid is not None:
        stop_pid(pid, timeout=15)
    elif read_pid(pid_file) is not None:
        pid_file.unlink(missing_ok=True)


def _cgroup_dirs(name: str) -> list[Path]:
    """Every cgroup folder named `name` (a minion's recorded cgroup parent), at any depth.

    dockerd places a relative cgroup parent under its own cgroup in each hierarchy, and that is
    not always the root: here the memory controller puts every process, dockerd too, in a
    cgroup of its own (`memory/process_api/ID/`). Folders named `name` are not searched inside.
    """
    found = []
    for folder, children, _ in os.walk(CGROUP_ROOT):
        if name in children:
            found.append(Path(folder) / name)
            children.remove(name)
    return sorted(found)


def _remove_cgroups(name: str) -> None:
    for top in _cgroup_dirs(name):
        # Deepest first: a cgroup folder can only be removed once it has no children, and
        # only once no process is left in it. Container processes whose dockerd died before
        # removing them live on in the lab's cgroups (not in the minion's network namespace).
        nested = [p for p in top.rglob("*") if p.is_dir()]
        stop_pids(_cgroup_pids([top, *nested]))
        for folder in sorted(nested, key=lambda p: -len(p.parts)):
            folder.rmdir()
        top.rmdir()


def _cgroup_pids(folders: list[Path]) -> list[int]:
    pids: set[int] = set()
    for folder in folders:
        try:
            pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        except (FileNotFoundError, ValueError):
            continue
    return sorted(pids)


def leftovers(spec: LabSpec) -> list[str]:
    """What of the lab still exists on this machine (empty when it is fully gone)."""
    left = []
    for minion in spec.all_minions():
        for daemon, program in (("sshd", SSHD), ("docker", DOCKERD), ("haproxy", HAPROXY)):
            pid = running_pid(minion.pid_file(daemon), program)
            if pid is not None:
                left.append(f"{daemon} of {minion.name} (pid {pid})")
        if netns_exists(minion.netns):
            left.append(f"netns {minion.netns}")
        left += [f"cgroup {d}" for d in _cgroup_dirs(minion.cgroup_parent)]
        if _has_route(minion.pod_cidr):
            left.append(f"route {minion.pod_cidr}")
    for what, pid_file, program in (("etcd", spec.etcd_pid_file, ETCD),
                                    ("API server", spec.api_pid_file, api_program())):
        pid = running_pid(pid_file, program)
        if pid is not None:
            left.append(f"{what} (pid {pid})")
    if netns_exists(spec.ctl_netns):
        left.append(f"netns {spec.ctl_netns}")
    if link_exists(spec.host_veth):
        left.append(f"link {spec.host_veth}")
    state = str(spec.state_dir)
    left += [f"mount {p}" for p in mount_points() if p == state or p.startswith(state + "/")]
    return left


def _has_route(cidr: str) -> bool:
    return bool(run(["ip", "route", "show", cidr], check=False).stdout.strip())
