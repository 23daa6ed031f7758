"""bosun.lab.vagrant: the Vagrant lab's inventory, read back by Bosun and by ansible-inventory."""

from __future__ import annotations

import pytest

from bosun.errors import ConfigError
from bosun.inventory import MinionAddress, load_inventory
from bosun.lab.vagrant import VagrantHost, main, render_inventory
from tests.unit.test_inventory import ansible_json, as_json

MASTER = VagrantHost("master", "192.168.56.10")
SHARED = "/bosun-shared"


def minions(count: int) -> list[VagrantHost]:
    return [VagrantHost(f"minion-{i}", f"192.168.56.{10 + i}", f"10.244.{i}.0/24")
            for i in range(1, count + 1)]


def written(tmp_path, text: str):
    path = tmp_path / "vagrant.ini"
    path.write_text(text)
    return path


@pytest.mark.parametrize("count", [1, 2, 9])
def test_bosun_reads_every_minion_as_the_master_reaches_it(tmp_path, count):
    path = written(tmp_path, render_inventory(MASTER, minions(count), SHARED))

    inventory = load_inventory(path)

    assert inventory.minions() == [
        MinionAddress(name=m.name, host=m.address, port=22, user="root",
                      private_key_file=f"{SHARED}/id_ed25519",
                      known_hosts_file=f"{SHARED}/known_hosts", host_key_policy="strict",
                      pod_cidr=m.pod_cidr)
        for m in minions(count)
    ]
    assert [h.name for h in inventory.group_hosts("masters")] == ["master"]


def test_ansible_inventory_reads_the_same(tmp_path):
    path = written(tmp_path, render_inventory(MASTER, minions(3), SHARED))

    assert as_json(load_inventory(path).to_ansible_list()) == as_json(ansible_json(path, "--list"))


BAD = [
    pytest.param(MASTER, [VagrantHost("minion-1", "192.168.56.11", "10.244.1.5/24")], SHARED,
                 "has host bits set", id="pod-cidr-not-a-network"),
    pytest.param(MASTER, [VagrantHost("minion-1", "192.168.56.11", "10.244.1.0/31")], SHARED,
                 "/30 or larger", id="pod-cidr-too-small"),
    pytest.param(MASTER, [VagrantHost("minion-1", "192.168.56.11", None)], SHARED,
                 "pod subnet None", id="pod-cidr-missing"),
    pytest.param(MASTER, [VagrantHost("minion-1", "192.168.56.11 x=1", "10.244.1.0/24")], SHARED,
                 "address '192.168.56.11 x=1'", id="address-with-a-variable"),
    pytest.param(MASTER, [VagrantHost("Minion_1", "192.168.56.11", "10.244.1.0/24")], SHARED,
                 "not a host name", id="name-not-a-hostname"),
    pytest.param(MASTER, [VagrantHost("minion-1", "192.168.56.10", "10.244.1.0/24")], SHARED,
                 "share one address", id="minion-on-the-master-address"),
    pytest.param(MASTER, [*minions(1), VagrantHost("minion-2", "192.168.56.12", "10.244.0.0/16")],
                 SHARED, "overlap", id="overlapping-pod-subnets"),
    pytest.param(MASTER, minions(1), "bosun-shared", "absolute path", id="relative-shared"),
    pytest.param(MASTER, minions(1), "/bosun shared", "absolute path", id="shared-with-space"),
    pytest.param(MASTER, [], SHARED, "at least one minion", id="no-minions"),
]


@pytest.mark.parametrize(("master", "nodes", "shared", "words"), BAD)
def test_bad_machines_are_refused(master, nodes, shared, words):
    with pytest.raises(ConfigError, match=words):
        render_inventory(master, nodes, shared)


def test_command_line_prints_the_inventory(capsys):
    args = ["--shared", SHARED, "--master", "master", "192.168.56.10"]
    for m in minions(2):
        args += ["--minion", m.name, m.address, m.pod_cidr]

    assert main(args) == 0

    assert capsys.readouterr().out == render_inventory(MASTER, minions(2), SHARED)


def test_command_line_refuses_a_bad_subnet_with_exit_2(capsys):
    code = main(["--shared", SHARED, "--master", "master", "192.168.56.10",
                 "--minion", "minion-1", "192.168.56.11", "10.244.1.1/24"])

    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "minion-1: pod subnet '10.244.1.1/24'" in err
