"""bosun.inventory held to the real `ansible-inventory`, then its errors, minions and CLI.

Every fixture inventory is read by both; the JSON must be identical, types and order included.
Malformed files must raise ConfigError naming file and line, and the table records whether
Ansible refuses each one too (where it does not, Bosun is deliberately stricter).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bosun.errors import ConfigError
from bosun.inventory import Inventory, MinionAddress, load_inventory
from bosun.inventory.patterns import PatternError, expand_host_pattern

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "inventories"
EXAMPLES = ROOT / "inventory"
# The test dependency from pyproject's [test] extra, beside the interpreter running the tests.
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"


def run_ansible_inventory(*args: str, plugin: str | None = None) -> subprocess.CompletedProcess:
    """Run ansible-inventory isolated from this machine's Ansible settings."""
    if not ANSIBLE_INVENTORY.exists():
        pytest.fail(f"{ANSIBLE_INVENTORY} is missing: install the [test] extra (ansible-core)")
    with tempfile.TemporaryDirectory() as home:
        config = Path(home, "ansible.cfg")
        config.write_text("")
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update(
            HOME=home,
            ANSIBLE_CONFIG=str(config),
            ANSIBLE_HOME=home,
            ANSIBLE_LOCAL_TEMP=str(Path(home, "tmp")),
            ANSIBLE_NOCOLOR="1",
            # Fail, rather than print an empty inventory, when no plugin can read the file.
            ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
        )
        if plugin:
            env["ANSIBLE_INVENTORY_ENABLED"] = plugin
        # Run elsewhere: Ansible also reads group_vars/ in its working directory; Bosun does not.
        return subprocess.run([str(ANSIBLE_INVENTORY), *args], cwd=home, env=env,
                              capture_output=True, text=True, check=False, timeout=120)


@functools.cache
def ansible_json(path: Path, *args: str) -> dict:
    done = run_ansible_inventory("-i", str(path), *args)
    assert done.returncode == 0, f"ansible-inventory {args} failed on {path}:\n{done.stderr}"
    return json.loads(done.stdout)


def as_json(data: dict) -> str:
    # == holds for True == 1 and 1 == 1.0; the JSON text does not.
    return json.dumps(data, sort_keys=True)


# (inventory, hosts to compare with `ansible-inventory --host`)
SAME_AS_ANSIBLE = [
    ("ini-groups-children-ranges", FIXTURES / "groups_children_ranges.ini", ["master1", "storeA"]),
    ("ini-value-types", FIXTURES / "value_types.ini", ["inline1", "inline3"]),
    ("ini-precedence", FIXTURES / "precedence.ini", ["shared"]),
    ("ini-edge-cases", FIXTURES / "edge_cases.ini", ["e1", "l1"]),
    ("ini-only-comments", FIXTURES / "empty.ini", []),
    ("yaml-cluster", FIXTURES / "cluster.yml", ["disk1"]),
    ("json-cluster", FIXTURES / "cluster.json", ["minion02"]),
    ("no-extension-ini", FIXTURES / "no_extension" / "ini_style", ["minion1"]),
    ("no-extension-yaml", FIXTURES / "no_extension" / "yaml_style", []),
    ("vars-dirs-ini", FIXTURES / "with_vars_dirs" / "hosts.ini", ["minion2"]),
    ("vars-dirs-yaml", FIXTURES / "with_vars_dirs" / "hosts.yml", ["minion3"]),
    ("example-ini", EXAMPLES / "example.ini", ["minion2"]),
    ("example-yml", EXAMPLES / "example.yml", []),
]
INVENTORIES = [pytest.param(path, id=name) for name, path, _ in SAME_AS_ANSIBLE]
HOSTS = [pytest.param(path, host, id=f"{name}-{host}")
         for name, path, hosts in SAME_AS_ANSIBLE for host in hosts]


@pytest.mark.parametrize("path", INVENTORIES)
def test_list_is_what_ansible_inventory_prints(path):
    ours = load_inventory(path).to_ansible_list()
    theirs = ansible_json(path, "--list")
    assert ours == theirs
    assert as_json(ours) == as_json(theirs)


@pytest.mark.parametrize(("path", "host"), HOSTS)
def test_host_vars_are_what_ansible_inventory_prints(path, host):
    ours = load_inventory(path).host_vars(host)
    theirs = ansible_json(path, "--host", host)
    assert ours == theirs
    assert as_json(ours) == as_json(theirs)


def _members(listing: dict, group: str) -> set[str]:
    entry = listing.get(group, {})  # Ansible leaves empty groups out
    found = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        found |= _members(listing, child)
    return found


@pytest.mark.parametrize("path", INVENTORIES)
def test_groups_of_hosts_and_hosts_of_groups_agree_with_ansible(path):
    inventory = load_inventory(path)
    listing = ansible_json(path, "--list")
    for group in inventory.groups:
        assert {host.name for host in inventory.group_hosts(group)} == _members(listing, group)
    for host in inventory.hosts.values():
        expected = {group for group in inventory.groups if host.name in _members(listing, group)}
        assert set(host.groups) == expected - {"all"}
        assert list(host.groups) == sorted(host.groups)


def test_hosts_and_group_members_keep_file_order():
    inventory = load_inventory(FIXTURES / "groups_children_ranges.ini")
    assert list(inventory.hosts)[:5] == ["bastion", "lonely", "master1", "minion1", "minion2"]
    storage = [host.name for host in inventory.group_hosts("storage")]
    assert storage == ["disk8", "disk9", "disk10", "storey", "storeA"]
    minions = [host.name for host in inventory.group_hosts("minions")]
    assert minions[:4] == ["minion1", "minion2", "minion3", "worker-a"]
    assert minions[-2:] == ["storey", "storeA"]


def test_example_ini_and_yml_are_the_same_inventory():
    ini = load_inventory(EXAMPLES / "example.ini")
    yml = load_inventory(EXAMPLES / "example.yml")
    assert as_json(ini.to_ansible_list()) == as_json(yml.to_ansible_list())
    assert ini.minions() == yml.minions()


def test_example_minions_connect_as_documented():
    minions = load_inventory(EXAMPLES / "example.ini").minions()
    assert [minion.name for minion in minions] == ["minion1", "minion2", "minion3"]
    assert minions[1] == MinionAddress(
        name="minion2", host="minion2", port=22, user="bosun",
        private_key_file=os.path.expanduser("~/.ssh/bosun_ed25519"), known_hosts_file=None,
        host_key_policy="strict", pod_cidr="10.244.2.0/24",
    )


def test_host_vars_are_read_only_and_handed_out_as_copies():
    inventory = load_inventory(FIXTURES / "cluster.yml")
    with pytest.raises(TypeError):
        inventory.hosts["disk1"].vars["tuning"] = {}  # type: ignore[index]
    inventory.host_vars("disk1")["tuning"]["timeout"] = 1
    assert inventory.host_vars("disk1")["tuning"] == {"retries": 3, "timeout": 30}


@pytest.mark.parametrize(("lookup", "name"), [
    pytest.param("group_hosts", "nope", id="unknown-group"),
    pytest.param("host_vars", "nope", id="unknown-host"),
])
def test_unknown_names_are_config_errors(lookup, name):
    path = FIXTURES / "precedence.ini"
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: no (group|host) 'nope'"):
        getattr(load_inventory(path), lookup)(name)


# --- malformed inventories ---------------------------------------------------------------

# (files to write, the first being the inventory; the file and line the error must name; words
#  it must contain; whether ansible-inventory refuses the inventory too)
MALFORMED = [
    pytest.param({"x.ini": "[masters]\nm1\n\n[my group]\nm2\n"}, "x.ini", 4,
                 "bad section header", True, id="ini-section-with-space"),
    pytest.param({"x.ini": "[masters:child]\nm1\n"}, "x.ini", 1,
                 "unknown type 'child'", True, id="ini-unknown-section-type"),
    pytest.param({"x.ini": "[minions]\nminion[1:]\n"}, "x.ini", 2,
                 "has no end", True, id="ini-range-without-end"),
    pytest.param({"x.ini": "[minions]\nminion[a:5]\n"}, "x.ini", 2,
                 "mixes letters and numbers", True, id="ini-range-letter-to-number"),
    pytest.param({"x.ini": "[minions]\nminion[01:100]\n"}, "x.ini", 2,
                 "pads begin and end differently", True, id="ini-range-uneven-padding"),
    pytest.param({"x.ini": "[minions]\nminion[1:3\n"}, "x.ini", 2,
                 "no closing ']'", True, id="ini-range-unclosed"),
    pytest.param({"x.ini": "[minions]\nminion[5:1]\n"}, "x.ini", 2,
                 "ends before it begins", False, id="ini-range-backwards"),
    pytest.param({"x.ini": "[minions]\nm1 ansible_port 22\n"}, "x.ini", 2,
                 "expected key=value after the host name, got 'ansible_port'", True,
                 id="ini-host-var-without-equals"),
    pytest.param({"x.ini": "[minions]\nm1\n[minions:vars]\nansible_user bosun\n"}, "x.ini", 4,
                 "expected key=value", True, id="ini-vars-line-without-equals"),
    pytest.param({"x.ini": '[minions]\nm1 ansible_user="bosun\n'}, "x.ini", 2,
                 "No closing quotation", True, id="ini-unclosed-quote"),
    pytest.param({"x.ini": "[masters]\nm1\n\n[minions:vars]\nansible_user=bosun\n"}, "x.ini", 4,
                 "[minions:vars] is for a group that no [minions] section declares", True,
                 id="ini-vars-for-undeclared-group"),
    pytest.param({"x.ini": "[cluster:children]\nmasters\nminions\n[masters]\nm1\n"}, "x.ini", 3,
                 "[cluster:children] names group 'minions'", True, id="ini-undeclared-child"),
    pytest.param({"x.ini": "[a:children]\nb\n[b:children]\na\n"}, "x.ini", 4,
                 "creates a loop", True, id="ini-group-loop"),
    pytest.param({"x.ini": "[minions]\nm1:\n"}, "x.ini", 2,
                 "ends in ':'", True, id="ini-host-ending-in-colon"),
    pytest.param({"x.ini": "---\nall:\n  hosts:\n"}, "x.ini", 1,
                 "YAML", True, id="ini-file-holding-yaml"),
    pytest.param({"x.ini": "[minions]\nm1 pod-cidr=10.244.1.0/24\n"}, "x.ini", 2,
                 "'pod-cidr' is not a valid variable name", False, id="ini-bad-variable-name"),
    pytest.param({"x.ini": "[g]\nm1\n[g:vars]\nansible_group_priority=high\n"}, "x.ini", 4,
                 "whole number", True, id="ini-bad-group-priority"),
    pytest.param({"x.yml": "all:\n  hosts:\n    m1: {ansible_port: 22\n"}, "x.yml", 4,
                 "YAML syntax error", True, id="yaml-syntax-error"),
    pytest.param({"x.yml": "# hosts\n- m1\n- m2\n"}, "x.yml", 2,
                 "mapping of group names", True, id="yaml-list-at-top"),
    pytest.param({"x.yml": ""}, "x.yml", None, "empty", True, id="yaml-empty"),
    pytest.param({"x.yml": "plugin: aws_ec2\n"}, "x.yml", 1,
                 "inventory plugin configuration", True, id="yaml-plugin-config"),
    pytest.param({"x.yml": "all:\n  children:\n    minions: [m1]\n"}, "x.yml", 3,
                 "group 'minions' must be a mapping", True, id="yaml-child-group-is-list"),
    pytest.param({"x.yml": "minions: m1\n"}, "x.yml", 1,
                 "group 'minions' must be a mapping", False, id="yaml-top-group-is-text"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    - m1\n"}, "x.yml", 3,
                 "hosts of group 'minions' must be a mapping", True, id="yaml-hosts-is-list"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    m1: 22\n"}, "x.yml", 3,
                 "variables of host 'm1' must be a mapping", True, id="yaml-host-vars-not-mapping"),
    pytest.param({"x.yml": "minions:\n  host:\n    m1:\n"}, "x.yml", 2,
                 "unexpected key 'host'", False, id="yaml-misspelt-section"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    10:\n"}, "x.yml", 3,
                 "put quotes around it", True, id="yaml-number-as-host"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    m[1:]:\n"}, "x.yml", 3,
                 "has no end", True, id="yaml-range-without-end"),
    pytest.param({"x.ini": "[minions]\nm1\n", "group_vars/minions.yml": "- a\n- b\n"},
                 "group_vars/minions.yml", 1, "must be a mapping", True,
                 id="group-vars-file-is-list"),
    pytest.param({"x.ini": "[minions]\nm1\n", "group_vars/all/10.yml": "a: 1\nb: [1\n"},
                 "group_vars/all/10.yml", 3, "YAML syntax error", True,
                 id="group-vars-dir-syntax-error"),
    pytest.param({"x.ini": "[minions]\nm1\nm2\n\n[minions:vars]\nbosun_host_key_policy=yes\n"},
                 "x.ini", 6, "host m1: bosun_host_key_policy must be strict or accept-new", False,
                 id="bad-host-key-policy"),
    pytest.param({"x.ini": "[minions]\nm1\nm2 bosun_proxy_mode=ipvs\n"}, "x.ini", 3,
                 "host m2: bosun_proxy_mode must be haproxy or iptables, got 'ipvs'", False,
                 id="bad-proxy-mode"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    m1:\n      bosun_proxy_mode: true\n"},
                 "x.yml", 4, "host m1: bosun_proxy_mode must be haproxy or iptables", False,
                 id="proxy-mode-not-text"),
    pytest.param({"x.ini": "[minions]\nm1 pod_cidr=10.244.1.0\n"}, "x.ini", 2,
                 "host m1: pod_cidr must be a network like 10.244.1.0/24", False,
                 id="pod-cidr-without-prefix"),
    pytest.param({"x.ini": "[minions]\nm1 pod_cidr=10.244.1.7/24\n"}, "x.ini", 2,
                 "has host bits set", False, id="pod-cidr-with-host-bits"),
    pytest.param({"x.ini": "[minions]\nm1\n", "host_vars/m1.yml": "# net\npod_cidr: 300.0.0.0/8\n"},
                 "host_vars/m1.yml", 2, "host m1: pod_cidr", False, id="pod-cidr-in-host-vars"),
    pytest.param({"x.yml": "minions:\n  hosts:\n    m1:\n      pod_cidr: [10.0.0.0/8]\n"},
                 "x.yml", 4, "host m1: pod_cidr must be non-empty text", False,
                 id="pod-cidr-not-text"),
    pytest.param({"x.ini": "[minions]\nm1 bosun_known_hosts_file=42\n"}, "x.ini", 2,
                 "host m1: bosun_known_hosts_file must be non-empty text", False,
                 id="known-hosts-file-not-text"),
]
MALFORMED_ARGS = ("files", "bad_file", "line", "words", "ansible_refuses")


def write_files(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / next(iter(files))


@pytest.mark.parametrize(MALFORMED_ARGS, MALFORMED)
def test_malformed_inventory_error_names_file_and_line(tmp_path, files, bad_file, line, words,
                                                        ansible_refuses):
    inventory = write_files(tmp_path, files)
    with pytest.raises(ConfigError) as caught:
        load_inventory(inventory)
    where = str(tmp_path / bad_file)
    assert (caught.value.path, caught.value.line) == (where, line)
    assert str(caught.value).startswith(f"{where}:{line}: " if line else f"{where}: ")
    assert words in str(caught.value)


@pytest.mark.parametrize(MALFORMED_ARGS, MALFORMED)
def test_ansible_refuses_the_same_files_unless_bosun_is_stricter(tmp_path, files, bad_file, line,
                                                                  words, ansible_refuses):
    inventory = write_files(tmp_path, files)
    # Only the reader Bosun picks, so a YAML file cannot pass as INI instead.
    plugin = "yaml" if inventory.suffix == ".yml" else "ini"
    done = run_ansible_inventory("-i", str(inventory), "--list", plugin=plugin)
    assert (done.returncode != 0) == ansible_refuses, done.stderr


@pytest.mark.parametrize(("name", "words"), [
    pytest.param("missing.ini", "cannot read the inventory", id="missing-file"),
    pytest.param("hosts.toml", "TOML inventories are not supported", id="toml"),
])
def test_unreadable_sources_are_config_errors(tmp_path, name, words):
    (tmp_path / "hosts.toml").write_text("[minions.hosts.m1]\n")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path / name))}: {words}"):
        load_inventory(tmp_path / name)


# --- host patterns -------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "names", "port"), [
    pytest.param("minion1", ["minion1"], None, id="plain"),
    pytest.param("minion[1:3]", ["minion1", "minion2", "minion3"], None, id="numbers"),
    pytest.param("minion[01:10:4]", ["minion01", "minion05", "minion09"], None, id="padded-step"),
    pytest.param("n[8:10]", ["n8", "n9", "n10"], None, id="unpadded-widens"),
    pytest.param("n[:1]", ["n0", "n1"], None, id="begin-defaults-to-0"),
    pytest.param("db-[a:c]", ["db-a", "db-b", "db-c"], None, id="letters"),
    pytest.param("[y:B]", ["y", "z", "A", "B"], None, id="letters-lower-then-upper"),
    pytest.param("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"], None, id="two-ranges"),
    pytest.param("web[1:2]:2222", ["web1", "web2"], 2222, id="range-with-port"),
    pytest.param("10.0.0.1:22", ["10.0.0.1"], 22, id="ipv4-port"),
    pytest.param("[2001:db8::1]:2222", ["2001:db8::1"], 2222, id="ipv6-bracketed-port"),
    pytest.param("2001:db8::1", ["2001:db8::1"], None, id="ipv6-bare-has-no-port"),
])
def test_host_patterns_expand(pattern, names, port):
    assert expand_host_pattern(pattern) == (names, port)


@pytest.mark.parametrize(("pattern", "words"), [
    pytest.param("m[1]", "must be [begin:end] or [begin:end:step]", id="one-bound"),
    pytest.param("m[1:2:3:4]", "must be [begin:end] or [begin:end:step]", id="four-bounds"),
    pytest.param("m[1:2:0]", "step below 1", id="zero-step"),
    pytest.param("m[1:2:x]", "'x' is not a whole number", id="letter-step"),
    pytest.param("m[c:a]", "ends before it begins", id="letters-backwards"),
    pytest.param("m[ab:cd]", "'ab' is not a whole number", id="multi-letter-bounds"),
])
def test_bad_host_patterns(pattern, words):
    with pytest.raises(PatternError, match=re.escape(words)):
        expand_host_pattern(pattern)


# --- minions -------------------------------------------------------------------------------

def inventory_of(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    return load_inventory(path)


def test_minion_address_defaults(tmp_path):
    minions = inventory_of(tmp_path, "[minions]\nm1\n").minions()
    assert minions == [MinionAddress(
        name="m1", host="m1", port=22, user="root", private_key_file=None,
        known_hosts_file=None, host_key_policy="strict", pod_cidr=None,
    )]


def test_minion_address_from_every_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/operator")
    minions = inventory_of(tmp_path, (
        "[minions]\nm1 ansible_host=10.0.0.5 ansible_port=2222 ansible_user=bosun "
        "ansible_ssh_private_key_file=~/.ssh/id_bosun pod_cidr=10.244.1.0/24 "
        "bosun_host_key_policy=accept-new bosun_known_hosts_file=keys/known_hosts\n"
    )).minions()
    # `~` expands; a relative path stays relative to the working directory, as in Ansible.
    assert minions == [MinionAddress(
        name="m1", host="10.0.0.5", port=2222, user="bosun",
        private_key_file="/home/operator/.ssh/id_bosun", known_hosts_file="keys/known_hosts",
        host_key_policy="accept-new", pod_cidr="10.244.1.0/24",
    )]


def test_proxy_mode_per_host_from_group_and_host_vars(tmp_path):
    minions = inventory_of(tmp_path, (
        "[minions]\nm1\nm2 bosun_proxy_mode=haproxy\nm3\n\n"
        "[minions:vars]\nbosun_proxy_mode=iptables\n"
    )).minions()
    assert [(m.name, m.proxy_mode) for m in minions] == [
        ("m1", "iptables"), ("m2", "haproxy"), ("m3", "iptables")]
    (tmp_path / "plain").mkdir()
    assert inventory_of(tmp_path / "plain", "[minions]\nm1\n").minions()[0].proxy_mode == \
        "haproxy"


@pytest.mark.parametrize(("variables", "field", "expected"), [
    pytest.param("ansible_host=a ansible_ssh_host=b", "host", "b", id="ssh-host-wins"),
    pytest.param("ansible_port=22 ansible_ssh_port=2200", "port", 2200, id="ssh-port-wins"),
    pytest.param("ansible_user=a ansible_ssh_user=b", "user", "b", id="ssh-user-wins"),
    pytest.param("ansible_private_key_file=/k1 ansible_ssh_private_key_file=/k2",
                 "private_key_file", "/k2", id="ssh-key-wins"),
    pytest.param("ansible_private_key_file=/k1", "private_key_file", "/k1", id="key-short-name"),
    pytest.param("ansible_host=None", "host", "m1", id="null-host-means-unset"),
    pytest.param("ansible_port=\"'2222'\"", "port", 2222, id="port-as-text"),
])
def test_minion_address_reads_variables_like_ansible_ssh(tmp_path, variables, field, expected):
    minion = inventory_of(tmp_path, f"[minions]\nm1 {variables}\n").minions()[0]
    assert getattr(minion, field) == expected


@pytest.mark.parametrize(("variables", "words"), [
    pytest.param("ansible_port=ssh", "ansible_port must be a port number", id="port-text"),
    pytest.param("ansible_port=0", "ansible_port must be a port number", id="port-zero"),
    pytest.param("ansible_port=70000", "ansible_port must be a port number", id="port-too-big"),
    pytest.param("ansible_port=True", "ansible_port must be a port number", id="port-bool"),
    pytest.param("ansible_ssh_port=1.5", "ansible_ssh_port must be a port number",
                 id="ssh-port-float"),
    pytest.param('ansible_host="{{ ip }}"', "ansible_host is a Jinja template", id="template"),
    pytest.param("ansible_user=\"''\"", "ansible_user must be non-empty text", id="empty-user"),
    pytest.param("ansible_ssh_private_key_file=42",
                 "ansible_ssh_private_key_file must be non-empty text", id="key-file-number"),
])
def test_bad_connection_variables_name_host_file_and_line(tmp_path, variables, words):
    inventory = inventory_of(tmp_path, f"# minions\n[minions]\nm1 {variables}\n")
    with pytest.raises(ConfigError) as caught:
        inventory.minions()
    assert str(caught.value).startswith(f"{tmp_path / 'hosts.ini'}:3: host m1: {words}")


def test_minions_include_child_groups_in_file_order(tmp_path):
    text = "[minions:children]\nracks_b\nracks_a\n[racks_a]\na1\n[racks_b]\nb1\n[masters]\nm\n"
    assert [m.name for m in inventory_of(tmp_path, text).minions()] == ["a1", "b1"]


@pytest.mark.parametrize(("text", "words"), [
    pytest.param("[masters]\nm1\n", "the inventory has no [minions] group", id="no-group"),
    pytest.param("[minions]\n[masters]\nm1\n", "the [minions] group has no hosts", id="empty"),
])
def test_minions_need_a_minions_group_with_hosts(tmp_path, text, words):
    with pytest.raises(ConfigError) as caught:
        inventory_of(tmp_path, text).minions()
    assert str(caught.value) == f"{tmp_path / 'hosts.ini'}: {words}"


# --- command line --------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bosun.cli", "inventory", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.parametrize(("path", "mode"), [
    pytest.param(EXAMPLES / "example.ini", ["--list"], id="list-ini"),
    pytest.param(FIXTURES / "cluster.yml", ["--list"], id="list-yaml"),
    pytest.param(FIXTURES / "with_vars_dirs" / "hosts.ini", ["--host", "minion3"], id="host"),
])
def test_cli_prints_what_ansible_inventory_prints(path, mode):
    done = run_cli("-i", str(path), *mode)
    assert done.returncode == 0, done.stderr
    assert as_json(json.loads(done.stdout)) == as_json(ansible_json(path, *mode))


@pytest.mark.parametrize(("text", "mode", "message"), [
    pytest.param("[minions]\nm[1:]\n", ["--list"],
                 "{path}:2: host range [1:] in 'm[1:]' has no end", id="malformed"),
    pytest.param("[minions]\nm1\n", ["--host", "m2"], "{path}: no host 'm2' in the inventory",
                 id="unknown-host"),
])
def test_cli_reports_errors_on_one_line(tmp_path, text, mode, message):
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    done = run_cli("-i", str(path), *mode)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: {message.format(path=path)}\n"
