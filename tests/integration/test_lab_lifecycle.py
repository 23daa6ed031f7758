"""`lab up` / `lab down` on their own labs: speed, idempotence, and nothing left behind."""

from __future__ import annotations

import subprocess

from bosun.lab import teardown
from bosun.lab.build import DOCKERD, SSHD
from bosun.lab.spec import LabSpec
from bosun.lab.system import netns_exists, running_pid

from .conftest import TEST_LAB_INDEX, lab_cli, require_root

TEARDOWN_LAB_INDEX = TEST_LAB_INDEX + 1


def _docker(spec: LabSpec, minion: int, *args: str) -> subprocess.CompletedProcess:
    sock = spec.minion(minion).docker_socket
    return subprocess.run(["docker", "-H", f"unix://{sock}", *args], capture_output=True,
                          text=True, check=True)


def test_session_lab_came_up_in_under_ten_seconds(lab):
    assert lab.up_seconds < 10, f"lab up took {lab.up_seconds:.1f} s"


def test_up_again_is_harmless(lab):
    before = {m.name: running_pid(m.pid_file("docker"), DOCKERD) for m in lab.minions}
    done = lab_cli(lab.state_dir, "up", "--minions", str(lab.spec.minions), "--index",
                   str(lab.spec.index))
    assert done.returncode == 0, done.stderr
    after = {m.name: running_pid(m.pid_file("docker"), DOCKERD) for m in lab.minions}
    assert after == before
    assert all(pid is not None for pid in after.values())


def test_down_after_half_failed_up_leaves_nothing(tmp_path):
    require_root()
    # A folder where minion-2's machine-id file belongs makes its namespace setup fail after
    # its network namespace and link exist, while minion-1 comes up completely.
    spec = LabSpec(tmp_path / "lab", minions=2, index=TEARDOWN_LAB_INDEX)
    (spec.minion(2).root / "machine-id").mkdir(parents=True)
    up = lab_cli(spec.state_dir, "up", "--minions", "2", "--index", str(TEARDOWN_LAB_INDEX))
    assert up.returncode != 0
    assert "machine-id" in up.stderr
    assert netns_exists(spec.minion(2).netns)
    assert running_pid(spec.minion(1).pid_file("sshd"), SSHD) is not None
    # Give the lab something to clean: a running container on the healthy minion (the image
    # was never distributed, since `up` failed before that step).
    _docker(spec, 1, "import", str(spec.image_dir / "rootfs.tar"), "half:1")
    _docker(spec, 1, "run", "-d", "--name", "left", "half:1", "/bin/sleep", "600")

    down = lab_cli(spec.state_dir, "down")

    assert down.returncode == 0, down.stderr
    assert teardown.leftovers(spec) == []
    assert not spec.state_dir.exists()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert spec.host_veth not in links
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert spec.name + "-" not in netns


def test_down_without_a_lab_says_so(tmp_path):
    done = lab_cli(tmp_path / "nothing", "down")
    assert done.returncode == 0
    assert "no lab" in done.stdout
