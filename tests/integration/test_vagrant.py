"""The Vagrant lab, as far as it can be checked without a hypervisor.

`vagrant validate` passes for several BOSUN_MINIONS and refuses a bad one; the layout in lab.rb
hands master.sh and minion.sh consistent arguments; both scripts are shellcheck-clean. Then the
scripts run for real: master.sh against a scratch repository on this machine (its packages are
here already and its `setup` is recorded, not run; it makes the key and the inventory, which
Bosun reads), and minion.sh on a minion of a lab of our own (the suite's lab index + 3), whose
key, route, forwarding and daemon.json it has to repair without restarting the lab's dockerd. A
fresh master key and the known_hosts line the script wrote must then be all a new Bosun
connection needs, and a second run must change nothing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bosun.inventory import MinionAddress, load_inventory
from bosun.lab import teardown
from bosun.lab.build import DOCKERD
from bosun.lab.image import IMAGE
from bosun.lab.spec import LabSpec, MinionSpec
from bosun.lab.system import running_pid
from bosun.minion import Minion, MinionAuthError

from .conftest import ROOT, TEST_LAB_INDEX, lab_cli, require_root

VAGRANT_DIR = ROOT / "vagrant"
PROVISION = VAGRANT_DIR / "provision"
VAGRANT_LAB_INDEX = TEST_LAB_INDEX + 3
PLAN_SCRIPT = "puts JSON.generate(BosunLab.plan(ENV))"


def require_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: run ./orchestrator.py setup --with-tests")
    return found


@pytest.fixture(scope="module")
def vagrant_home(tmp_path_factory) -> Path:
    """One VAGRANT_HOME for this module's vagrant runs (the first run fills it; later ones are
    faster), in a temporary folder so nothing is left in ~/.vagrant.d."""
    return tmp_path_factory.mktemp("vagrant.d")


def vagrant(home: Path, tmp_path: Path, *args: str, minions: str) -> subprocess.CompletedProcess:
    """Run vagrant in vagrant/ with its machine state in tmp_path (no vagrant/.vagrant left)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAGRANT_")}
    env.update(VAGRANT_HOME=str(home), VAGRANT_DOTFILE_PATH=str(tmp_path / "dot"),
               VAGRANT_CHECKPOINT_DISABLE="1", BOSUN_MINIONS=minions)
    return subprocess.run([require_program("vagrant"), *args], cwd=VAGRANT_DIR, env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def ruby_lab(expression: str, minions: str | None) -> subprocess.CompletedProcess:
    """Evaluate Ruby with vagrant/lab.rb loaded (no Vagrant: fast), BOSUN_MINIONS as given."""
    env = {k: v for k, v in os.environ.items() if k != "BOSUN_MINIONS"}
    if minions is not None:
        env["BOSUN_MINIONS"] = minions
    return subprocess.run([require_program("ruby"), "-I", str(VAGRANT_DIR), "-r", "lab", "-r",
                           "json", "-e", expression], env=env, capture_output=True, text=True,
                          timeout=30, check=False)


def lab_plan(minions: str | None) -> dict:
    """vagrant/lab.rb's layout for BOSUN_MINIONS=minions, as the Vagrantfile uses it."""
    done = ruby_lab(PLAN_SCRIPT, minions)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def count_error(minions: str) -> str:
    return (f"BOSUN_MINIONS must be a whole number from 1 to 9 (the number of minions; "
            f"default 2), not {json.dumps(minions)}")


# -- the Vagrantfile ----------------------------------------------------------------------------

@pytest.mark.parametrize("minions", ["2", "5"])
def test_vagrantfile_validates(vagrant_home, tmp_path, minions):
    dotfolder_before = (VAGRANT_DIR / ".vagrant").exists()
    shared_before = (ROOT / ".vagrant-bosun").exists()

    done = vagrant(vagrant_home, tmp_path, "validate", "--ignore-provider", minions=minions)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "validated successfully" in done.stdout
    machines = re.findall(r"^==> (\S+): Ignoring provider config", done.stdout, re.MULTILINE)
    assert machines == ["master", *(f"minion-{i}" for i in range(1, int(minions) + 1))]
    assert (VAGRANT_DIR / ".vagrant").exists() == dotfolder_before
    assert (ROOT / ".vagrant-bosun").exists() == shared_before


@pytest.mark.parametrize("minions", ["0", "two"])
def test_vagrantfile_refuses_a_bad_minion_count_clearly(vagrant_home, tmp_path, minions):
    done = vagrant(vagrant_home, tmp_path, "validate", "--ignore-provider", minions=minions)

    assert done.returncode != 0
    assert done.stderr.strip() == f"vagrant/Vagrantfile: {count_error(minions)}"


@pytest.mark.parametrize("minions", ["0", "10", "two", "", " 3", "3 ", "-1", "1.5"])
def test_lab_layout_refuses_every_other_minion_count(minions):
    done = ruby_lab("BosunLab.minion_count(ENV)", minions)

    assert done.returncode != 0
    assert count_error(minions) in done.stderr


def test_lab_layout_has_two_minions_by_default():
    plan = lab_plan(None)

    assert [m["name"] for m in plan["minions"]] == ["minion-1", "minion-2"]


def test_lab_layout_gives_every_minion_its_subnet_and_the_others_as_peers():
    plan = lab_plan("3")

    assert plan["box"] == "debian/bookworm64"
    minions = plan["minions"]
    assert [(m["name"], m["address"], m["pod_cidr"]) for m in minions] == [
        (f"minion-{i}", f"192.168.56.{10 + i}", f"10.244.{i}.0/24") for i in (1, 2, 3)]
    for m in minions:
        peers = [["--peer", o["address"], o["pod_cidr"]] for o in minions if o is not m]
        assert m["provision_args"] == ["--shared", "/bosun-shared", m["name"], m["address"],
                                       m["pod_cidr"], *sum(peers, [])]
    master_machines = ["--master", "master", "192.168.56.10",
                       *sum((["--minion", m["name"], m["address"], m["pod_cidr"]]
                             for m in minions), [])]
    assert plan["master"]["provision_args"] == ["--repo", "/bosun", "--shared", "/bosun-shared",
                                                *master_machines]


# -- the provisioning scripts -------------------------------------------------------------------

@pytest.mark.parametrize("script", ["master.sh", "minion.sh"])
def test_provisioning_script_is_shellcheck_clean(script):
    done = subprocess.run([require_program("shellcheck"), "-x", script], cwd=PROVISION,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["minion-1", "10.0.0.1;touch {marker}", "10.244.1.0/24"], "is not an IPv4 address"),
    (["minion-1", "10.0.0.1", "10.244.1.0/24 $(touch {marker})"], "is not an IPv4 network"),
    (["minion-1", "10.0.0.1", "10.244.1.0/24", "--peer", "10.0.0.2", "`touch {marker}`"],
     "is not an IPv4 network"),
    (["$(touch {marker})", "10.0.0.1", "10.244.1.0/24"], "is not a host name"),
    (["minion-1", "10.0.0.1", "10.244.1.7/24"], "written by its first address"),
    (["minion-1", "10.0.0.1"], "expected NAME ADDRESS POD_CIDR"),
])
def test_minion_script_refuses_bad_arguments_before_doing_anything(tmp_path, args, words):
    marker = tmp_path / "marker"

    done = subprocess.run(["bash", str(PROVISION / "minion.sh"),
                           *(a.format(marker=marker) for a in args)],
                          capture_output=True, text=True, timeout=30, check=False)

    assert done.returncode == 2
    assert words in done.stderr
    assert done.stdout == ""
    assert not marker.exists()


# orchestrator.py of the scratch repository: `setup` is recorded, not run (it would reinstall this
# checkout's shared .venv whenever pyproject.toml changed); every other command is the real one.
RECORDING_ORCHESTRATOR = """#!{python}
import os, sys
if sys.argv[1:] == ["setup"]:
    with open("setup-calls", "a") as calls:
        calls.write(os.getcwd() + "\\n")
    print("python environment: up to date (recorded by the test)")
    sys.exit(0)
os.execv({python!r}, [{python!r}, {orchestrator!r}, *sys.argv[1:]])
"""


def scratch_repo(tmp_path: Path) -> Path:
    """A repository with this checkout's code and a recording orchestrator.py."""
    repo = tmp_path / "repo"
    (repo / "inventory").mkdir(parents=True)
    orchestrator = repo / "orchestrator.py"
    orchestrator.write_text(RECORDING_ORCHESTRATOR.format(
        python=sys.executable, orchestrator=str(ROOT / "orchestrator.py")))
    orchestrator.chmod(0o755)
    (repo / "lib").symlink_to(ROOT / "lib")
    return repo


def run_master_script(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(PROVISION / "master.sh"), *args], capture_output=True,
                          text=True, timeout=300, check=False)


def test_master_script_makes_the_key_once_and_an_inventory_bosun_reads(tmp_path):
    require_root()
    repo, shared = scratch_repo(tmp_path), tmp_path / "shared"
    plan = lab_plan("3")
    args = plan["master"]["provision_args"]
    args[args.index("--repo") + 1] = str(repo)
    args[args.index("--shared") + 1] = str(shared)

    first = run_master_script(args)

    assert first.returncode == 0, first.stdout + first.stderr
    assert f"master: changed: made the master's SSH key {shared}/id_ed25519" in first.stdout
    assert f"master: ok: Bosun reads {repo}/inventory/vagrant.ini" in first.stdout
    assert (repo / "setup-calls").read_text() == f"{repo}\n"
    key = (shared / "id_ed25519").read_bytes()
    public = (shared / "id_ed25519.pub").read_text()
    assert public.startswith("ssh-ed25519 ")
    inventory = load_inventory(repo / "inventory" / "vagrant.ini")
    assert inventory.minions() == [
        MinionAddress(name=m["name"], host=m["address"], user="root",
                      private_key_file=f"{shared}/id_ed25519",
                      known_hosts_file=f"{shared}/known_hosts", host_key_policy="strict",
                      pod_cidr=m["pod_cidr"])
        for m in plan["minions"]]

    second = run_master_script(args)

    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed:" not in second.stdout
    assert second.stdout.endswith("master: nothing changed\n")
    assert (shared / "id_ed25519").read_bytes() == key
    assert (shared / "id_ed25519.pub").read_text() == public


def test_master_script_refuses_a_bad_subnet(tmp_path):
    require_root()
    done = run_master_script(["--repo", str(scratch_repo(tmp_path)), "--shared",
                              str(tmp_path / "shared"), "--master", "master", "192.168.56.10",
                              "--minion", "minion-1", "192.168.56.11", "10.244.1.0/23"])

    assert done.returncode == 2
    assert "minion-1: pod subnet '10.244.1.0/23'" in done.stderr
    assert not (tmp_path / "shared").exists()


# -- minion.sh on a lab minion ------------------------------------------------------------------

# Everything the script gets or writes outside the lab's per-minion folders stays in a sandbox
# under the minion's own /tmp: the shared folder, and folders bound (inside the minion's mount
# namespace only) over /etc/sysctl.d and /etc/systemd/system, which are this machine's otherwise.
SANDBOX = "/tmp/vagrant-test"
SHARED = f"{SANDBOX}/shared"
SCRIPT = f"{SANDBOX}/minion.sh"
SANDBOXED_FOLDERS = ("/etc/sysctl.d", "/etc/systemd/system")
UNIT = "/etc/systemd/system/bosun-pod-network.service"
SYSCTL = "/etc/sysctl.d/60-bosun.conf"


@pytest.fixture(scope="module")
def vagrant_lab(tmp_path_factory):
    """A 2-minion lab of this module's own at the suite's lab index + 3, removed (and checked)
    at the end."""
    require_root()
    state_dir = tmp_path_factory.mktemp("vagrant-lab")
    done = lab_cli(state_dir, "up", "--minions", "2", "--index", str(VAGRANT_LAB_INDEX))
    spec = LabSpec.load(state_dir)
    try:
        assert done.returncode == 0, done.stderr + _api_log(state_dir)
        yield spec
    finally:
        if spec is not None:
            down = lab_cli(state_dir, "down")
            assert down.returncode == 0, down.stderr
            assert teardown.leftovers(spec) == []


def _api_log(state_dir: Path) -> str:
    """The end of the lab's API server log (gone once `lab down` removed the folder)."""
    log = state_dir / "api" / "serve.log"
    return log.read_text()[-3000:] if log.exists() else ""


@dataclass
class Provisioned:
    spec: LabSpec
    minion: MinionSpec
    peer: MinionSpec
    admin: Minion  # the lab's own connection (the lab's key), for looking around
    master_key: Path
    dockerd_pid: int | None
    first: str  # what the first run printed

    def argv(self) -> list[str]:
        return ["bash", SCRIPT, "--shared", SHARED, self.minion.name, self.minion.address,
                self.minion.pod_cidr, "--peer", self.peer.address, self.peer.pod_cidr]

    def run_script(self) -> str:
        done = self.admin.run(self.argv(), timeout=240)
        assert done.exit_code == 0, done.text + done.stderr.decode()
        return done.text

    def read(self, path: str) -> str:
        data = self.admin.read_file(path)
        assert data is not None, f"{path} missing on {self.minion.name}"
        return data.decode()


def _sandbox(admin: Minion) -> None:
    admin.check(["mkdir", "-p", SHARED])
    for folder in SANDBOXED_FOLDERS:
        inside = f"{SANDBOX}/{folder.strip('/').replace('/', '-')}"
        admin.check(["mkdir", "-p", inside])
        admin.check(["mount", "--bind", inside, folder])


def _break_what_the_script_repairs(admin: Minion, p: MinionSpec, peer: MinionSpec) -> None:
    """Take away the route to the peer's pods, IP forwarding, and daemon.json's bip (the lab's
    dockerd keeps docker0's address, so the script must not restart it)."""
    admin.check(["ip", "route", "del", peer.pod_cidr])
    admin.check(["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"])
    config = json.loads(admin.read_file("/etc/docker/daemon.json"))
    del config["bip"]
    admin.upload("/etc/docker/daemon.json", json.dumps(config).encode())


@pytest.fixture(scope="module")
def provisioned(vagrant_lab, tmp_path_factory):
    spec = vagrant_lab
    minion, peer = spec.minion(1), spec.minion(2)
    local = tmp_path_factory.mktemp("vagrant-master")
    master_key = local / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-master", "-f",
                    str(master_key)], check=True)
    admin = Minion(next(a for a in load_inventory(spec.inventory_path).minions()
                        if a.name == minion.name))
    try:
        _sandbox(admin)
        _break_what_the_script_repairs(admin, minion, peer)
        admin.upload(SCRIPT, (PROVISION / "minion.sh").read_bytes(), 0o755)
        admin.upload(f"{SHARED}/id_ed25519.pub", Path(f"{master_key}.pub").read_bytes())
        p = Provisioned(spec, minion, peer, admin, master_key,
                        running_pid(minion.pid_file("docker"), DOCKERD), first="")
        with pytest.raises(MinionAuthError):  # the fresh key is not the lab's
            _as_master(p, known_hosts=str(spec.known_hosts)).connect()
        p.first = p.run_script()
        yield p
    finally:
        admin.close()


def _as_master(p: Provisioned, known_hosts: str) -> Minion:
    """A new connection as the Vagrant master makes it: its key, strict host key checking."""
    return Minion(MinionAddress(name=p.minion.name, host=p.minion.address, user="root",
                                private_key_file=str(p.master_key), known_hosts_file=known_hosts,
                                host_key_policy="strict"))


def test_minion_records_its_host_key_once(provisioned):
    p = provisioned
    lab_line = next(line for line in p.spec.known_hosts.read_text().splitlines()
                    if line.startswith(f"{p.minion.address} "))

    assert p.read(f"{SHARED}/known_hosts") == lab_line + "\n"


def test_master_key_and_recorded_host_key_make_a_working_bosun_connection(provisioned, tmp_path):
    p = provisioned
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(p.read(f"{SHARED}/known_hosts"))

    with _as_master(p, str(known_hosts)) as master:
        version = master.check(["docker", "version", "--format", "{{.Server.Version}}"]).text
        pod_ip = master.check(["docker", "run", "--rm", IMAGE, "hostname", "-i"]).text.strip()
        master.check(["haproxy", "-v"])
        master.check(["iptables", "-V"])
        facts = master.facts()

    assert re.fullmatch(r"\d+\.\d+\.\d+\S*\n", version)
    assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network(p.minion.pod_cidr)
    assert facts.hostname == p.minion.name


def test_route_forwarding_and_forward_rule_are_in_place(provisioned):
    p = provisioned
    route = p.admin.check(["ip", "-4", "route", "show", "exact", p.peer.pod_cidr]).text

    assert f"via {p.peer.address} " in route + " "
    assert p.admin.check(["sysctl", "-n", "net.ipv4.ip_forward"]).text == "1\n"
    p.admin.check(["iptables", "-C", "DOCKER-USER", "-d", p.minion.pod_cidr, "-j", "ACCEPT"])


def test_bip_is_merged_into_daemon_json_and_docker_not_restarted(provisioned):
    p = provisioned
    config = json.loads(p.read("/etc/docker/daemon.json"))

    assert config["bip"] == f"{p.minion.bridge_ip}/24"
    assert config["cgroup-parent"] == p.minion.cgroup_parent  # the lab's own settings stay
    assert f"changed: set bip {p.minion.bridge_ip}/24 in /etc/docker/daemon.json" in p.first
    assert f"docker0 carries {p.minion.bridge_ip}/24: Docker not restarted" in p.first
    assert p.dockerd_pid is not None
    assert running_pid(p.minion.pid_file("docker"), DOCKERD) == p.dockerd_pid


def test_first_run_reports_each_repair(provisioned):
    p = provisioned
    changed = [line.split(": changed: ", 1)[1] for line in p.first.splitlines()
               if ": changed: " in line]

    assert changed == [
        "authorized the master's key for root in /etc/ssh/authorized_keys",
        f"set bip {p.minion.bridge_ip}/24 in /etc/docker/daemon.json",
        "turned IP forwarding on",
        f"wrote {SYSCTL}",
        f"route to {p.peer.pod_cidr} via {p.peer.address}",
        f"accept forwarding into {p.minion.pod_cidr} (iptables DOCKER-USER)",
        f"wrote {UNIT}",
        f"recorded the host key of {p.minion.address} in {SHARED}/known_hosts",
    ]
    assert p.first.endswith(f"{p.minion.name}: {len(changed)} changes\n")


def test_boot_unit_and_sysctl_file_hold_the_same_settings(provisioned):
    p = provisioned
    unit = p.read(UNIT)

    assert re.search(rf"^ExecStart=/\S+/ip route replace {re.escape(p.peer.pod_cidr)} via "
                     rf"{re.escape(p.peer.address)}$", unit, re.MULTILINE)
    assert re.search(rf"^ExecStart=/\S+/iptables -I DOCKER-USER -d "
                     rf"{re.escape(p.minion.pod_cidr)} -j ACCEPT$", unit, re.MULTILINE)
    assert "WantedBy=multi-user.target" in unit
    assert p.read(SYSCTL) == "net.ipv4.ip_forward = 1\n"
    # Written inside the minion only: this machine's folders never saw them.
    assert not Path(UNIT).exists()
    assert not Path(SYSCTL).exists()


def test_second_run_changes_nothing(provisioned):
    p = provisioned
    files = ["/etc/ssh/authorized_keys", "/etc/docker/daemon.json", UNIT, SYSCTL,
             f"{SHARED}/known_hosts"]
    before = {path: p.read(path) for path in files}

    again = p.run_script()

    assert "changed:" not in again
    assert again.endswith(f"{p.minion.name}: nothing changed\n")
    assert {path: p.read(path) for path in files} == before
    public = Path(f"{p.master_key}.pub").read_text().split()[1]
    assert before["/etc/ssh/authorized_keys"].count(public) == 1
    assert running_pid(p.minion.pid_file("docker"), DOCKERD) == p.dockerd_pid


def test_a_rebuilt_minion_replaces_its_old_host_key_and_keeps_the_others(provisioned):
    p = provisioned
    current = p.read(f"{SHARED}/known_hosts")
    some_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISomeOtherKeySomeOtherKeySomeOtherKey00"
    other = f"10.9.9.9 {some_key}\n"
    stale = f"{p.minion.address} {some_key}"
    p.admin.upload(f"{SHARED}/known_hosts", (other + stale).encode())  # no final newline

    out = p.run_script()

    assert f"changed: removed the old host key of {p.minion.address}" in out
    assert p.read(f"{SHARED}/known_hosts") == other + current
