"""LabSpec: names and addresses of a lab, derived without touching the machine."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from bosun.errors import ConfigError
from bosun.lab.spec import MAX_MINIONS, LabSpec, render_inventory


def _every_link_name(spec: LabSpec) -> list[str]:
    return [spec.bridge, spec.host_veth, spec.host_veth_peer,
            *(m.veth for m in spec.all_minions())]


@pytest.mark.parametrize("index", [0, 1, 9], ids=["default-lab", "test-lab", "last-index"])
def test_link_names_fit_linux_limit(index):
    spec = LabSpec(Path("/x"), minions=MAX_MINIONS, index=index)
    for name in _every_link_name(spec):
        assert len(name) <= 15, name


def test_default_lab_uses_documented_addresses():
    spec = LabSpec(Path("/x"), minions=3)
    minion = spec.minion(2)
    assert (minion.name, minion.address, minion.pod_cidr, minion.bridge_ip) == (
        "minion-2", "10.200.0.12", "10.244.2.0/24", "10.244.2.1")
    assert spec.host_address == "10.200.0.254"
    assert spec.etcd_client_url == "http://127.0.0.1:23790"


def test_two_labs_share_no_name_address_or_port():
    a, b = LabSpec(Path("/a"), minions=5, index=0), LabSpec(Path("/b"), minions=5, index=1)

    def taken(spec):
        names = {spec.ctl_netns, *_every_link_name(spec), *(m.netns for m in spec.all_minions())}
        return names, {spec.network, spec.pod_network}, {spec.etcd_client_url,
                                                        spec.etcd_peer_url}

    (names_a, nets_a, ports_a), (names_b, nets_b, ports_b) = taken(a), taken(b)
    assert not names_a & names_b
    assert not ports_a & ports_b
    assert not any(x.overlaps(y) for x in nets_a for y in nets_b)


def test_pod_subnets_lie_in_pod_network_and_do_not_overlap():
    spec = LabSpec(Path("/x"), minions=MAX_MINIONS, index=3)
    subnets = [ipaddress.IPv4Network(m.pod_cidr) for m in spec.all_minions()]
    assert all(s.subnet_of(spec.pod_network) for s in subnets)
    assert len({s for s in subnets}) == len(subnets)
    assert all(ipaddress.IPv4Address(m.address) in spec.network for m in spec.all_minions())


@pytest.mark.parametrize(("minions", "index"), [(0, 0), (MAX_MINIONS + 1, 0), (3, -1), (3, 10)],
                         ids=["no-minions", "too-many", "negative-index", "index-too-big"])
def test_out_of_range_settings_are_refused(minions, index):
    with pytest.raises(ConfigError):
        LabSpec(Path("/x"), minions=minions, index=index)


def test_spec_round_trips_through_its_record(tmp_path):
    spec = LabSpec(tmp_path, minions=4, index=2)
    spec.save()
    assert LabSpec.load(tmp_path) == spec
    assert LabSpec.load(tmp_path / "elsewhere") is None


def test_inventory_lists_every_minion_with_its_ssh_settings():
    spec = LabSpec(Path("/lab"), minions=2)
    text = render_inventory(spec)
    assert "minion-1 ansible_host=10.200.0.11 pod_cidr=10.244.1.0/24" in text
    assert "minion-2 ansible_host=10.200.0.12 pod_cidr=10.244.2.0/24" in text
    assert "ansible_ssh_private_key_file=/lab/id_ed25519" in text
    assert "bosun_known_hosts_file=/lab/known_hosts" in text
    assert "bosun_host_key_policy=strict" in text


def test_rendered_inventory_reads_back_as_the_labs_minions(tmp_path):
    from bosun.inventory import load_inventory

    spec = LabSpec(tmp_path, minions=3, index=1)
    spec.inventory_path.parent.mkdir(parents=True, exist_ok=True)
    spec.inventory_path.write_text(render_inventory(spec))
    minions = load_inventory(spec.inventory_path).minions()
    assert [(m.name, m.host, m.port, m.user, m.pod_cidr) for m in minions] == [
        (s.name, s.address, 22, "root", s.pod_cidr) for s in spec.all_minions()]
    assert {m.private_key_file for m in minions} == {str(spec.ssh_key)}
    assert {m.known_hosts_file for m in minions} == {str(spec.known_hosts)}
    assert {m.host_key_policy for m in minions} == {"strict"}
