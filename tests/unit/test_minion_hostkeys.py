"""Host key verdicts against known_hosts files: unknown, changed, accept-new, hashed, ports."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import Path

import paramiko
import pytest

from bosun.errors import ConfigError
from bosun.minion.errors import ChangedHostKey, UnknownHostKey
from bosun.minion.hostkeys import (
    HostKeyChecker,
    fingerprint,
    known_hosts_name,
    preferred_key_types,
)

# Public keys with the fingerprints `ssh-keygen -l` printed for them.
KEY_A = "AAAAC3NzaC1lZDI1NTE5AAAAIIPp4UqxemkARPaoJRxgvzGIM6LfFzV8sbD3xwg79SyC"
FP_A = "SHA256:t01W1TOelgAsD3ylmsSdLufcdkvWEmqMOBSElqJBh78"
KEY_B = "AAAAC3NzaC1lZDI1NTE5AAAAIPQ803CqqmarsqBccnb8wXCTu2lZrfH1UjhU7I0n0/pR"
FP_B = "SHA256:368qr1M/EVo6lhToc7dw10pOrAn0/2F+UWKI3tcGbOU"
KEY_RSA = (
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDdbVZHMueECK23FcMYB947PnQld1i7KwieQY8bVT6FJIw52FBGFscjq4m9"
    "WbNYgNtz8aszDUgx4o5Uao0j/mU7SMwsg1MyV0RAg0jKY4UWJUucPeqE6cnutklJk3R4P2LX1V6gapIbcmtSOOdP"
    "fU7ZaP0nCHgSn974Vk5B4wnA0Q=="
)
FP_RSA = "SHA256:d+0WL8zw0hjakvXUQdHh1mqTYmJxgQQIaN6mdCSmVPQ"


def pkey(kind: str, blob: str) -> paramiko.PKey:
    return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


A = pkey("ssh-ed25519", KEY_A)
B = pkey("ssh-ed25519", KEY_B)


@dataclass(frozen=True)
class Address:
    name: str = "minion-2"
    host: str = "10.200.0.12"
    port: int = 22
    user: str = "root"
    private_key_file: str | None = None
    known_hosts_file: str | None = None
    host_key_policy: str = "strict"
    pod_cidr: str = "10.244.2.0/24"


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "known_hosts"


def checker(known_hosts: Path, **changes) -> HostKeyChecker:
    return HostKeyChecker(replace(Address(known_hosts_file=str(known_hosts)), **changes))


@pytest.mark.parametrize(
    "kind, blob, expected",
    [("ssh-ed25519", KEY_A, FP_A), ("ssh-ed25519", KEY_B, FP_B), ("ssh-rsa", KEY_RSA, FP_RSA)],
    ids=["ed25519-a", "ed25519-b", "rsa"],
)
def test_fingerprint_matches_ssh_keygen(kind: str, blob: str, expected: str):
    assert fingerprint(pkey(kind, blob).asbytes()) == expected


@pytest.mark.parametrize(
    "host, port, name",
    [("10.200.0.12", 22, "10.200.0.12"), ("10.200.0.12", 2222, "[10.200.0.12]:2222"),
     ("minion.example", 22, "minion.example"), ("::1", 2200, "[::1]:2200")],
    ids=["port-22-bare", "other-port-bracketed", "dns-name", "ipv6"],
)
def test_known_hosts_name(host: str, port: int, name: str):
    assert known_hosts_name(host, port) == name


def test_recorded_key_is_accepted(known_hosts: Path):
    known_hosts.write_text(f"10.200.0.12 ssh-ed25519 {KEY_A}\n")
    checker(known_hosts).check(A)


def test_unknown_key_message_names_host_file_and_the_way_out(known_hosts: Path):
    known_hosts.write_text(f"10.200.0.99 ssh-ed25519 {KEY_A}\n")
    with pytest.raises(UnknownHostKey) as caught:
        checker(known_hosts).check(A)
    assert str(caught.value) == (
        f"minion-2 (10.200.0.12:22): host key not in {known_hosts} (offered ssh-ed25519 {FP_A}); "
        "add it or set bosun_host_key_policy=accept-new"
    )
    assert caught.value.host == "minion-2"


def test_missing_known_hosts_file_means_unknown(known_hosts: Path):
    with pytest.raises(UnknownHostKey):
        checker(known_hosts).check(A)
    assert not known_hosts.exists()


def test_changed_key_names_both_fingerprints(known_hosts: Path):
    known_hosts.write_text(f"10.200.0.12 ssh-ed25519 {KEY_A}\n")
    with pytest.raises(ChangedHostKey) as caught:
        checker(known_hosts, host_key_policy="accept-new").check(B)
    error = caught.value
    assert (error.expected, error.offered) == (f"ssh-ed25519 {FP_A}", f"ssh-ed25519 {FP_B}")
    assert str(error).startswith("minion-2 (10.200.0.12:22): HOST KEY CHANGED: ")
    assert FP_A in str(error) and FP_B in str(error)
    assert known_hosts.read_text() == f"10.200.0.12 ssh-ed25519 {KEY_A}\n"


def test_key_of_another_type_only_counts_as_changed(known_hosts: Path):
    # The host had an RSA key on record and now shows an ed25519 one: never accept silently.
    known_hosts.write_text(f"10.200.0.12 ssh-rsa {KEY_RSA}\n")
    with pytest.raises(ChangedHostKey) as caught:
        checker(known_hosts, host_key_policy="accept-new").check(A)
    assert caught.value.expected == f"ssh-rsa {FP_RSA}"


def test_accept_new_appends_one_line_after_existing_content(known_hosts: Path):
    known_hosts.write_text(f"other ssh-ed25519 {KEY_B}")  # no trailing newline
    c = checker(known_hosts, port=2222, host_key_policy="accept-new")
    c.check(A)
    c.check(A)  # now known: not appended again
    assert known_hosts.read_text().splitlines() == [
        f"other ssh-ed25519 {KEY_B}",
        f"[10.200.0.12]:2222 ssh-ed25519 {KEY_A}",
    ]
    checker(known_hosts, port=2222).check(A)  # a strict checker accepts what was recorded


def test_accept_new_creates_the_file_and_its_folder(tmp_path: Path):
    known_hosts = tmp_path / "ssh" / "known_hosts"
    checker(known_hosts, host_key_policy="accept-new").check(A)
    assert known_hosts.read_text() == f"10.200.0.12 ssh-ed25519 {KEY_A}\n"


def test_port_matters(known_hosts: Path):
    known_hosts.write_text(f"10.200.0.12 ssh-ed25519 {KEY_A}\n")
    with pytest.raises(UnknownHostKey, match=r"minion-2 \(10.200.0.12:2222\)"):
        checker(known_hosts, port=2222).check(A)


@pytest.mark.parametrize("name", ["10.200.0.12", "[10.200.0.12]:2222"], ids=["bare", "port"])
def test_hashed_entries(known_hosts: Path, name: str):
    port = 2222 if name.startswith("[") else 22
    known_hosts.write_text(f"{paramiko.HostKeys.hash_host(name)} ssh-ed25519 {KEY_A}\n")
    checker(known_hosts, port=port).check(A)
    with pytest.raises(ChangedHostKey):
        checker(known_hosts, port=port).check(B)


def test_several_names_on_one_line(known_hosts: Path):
    known_hosts.write_text(f"minion-2,10.200.0.12 ssh-ed25519 {KEY_A}\n")
    checker(known_hosts).check(A)


def test_unknown_policy_is_a_config_error(known_hosts: Path):
    with pytest.raises(ConfigError, match="minion-2 .*bosun_host_key_policy='yes'"):
        checker(known_hosts, host_key_policy="yes")


OFFERED = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


@pytest.mark.parametrize(
    "known, first",
    [({}, OFFERED[0]), ({"ecdsa-sha2-nistp256": A}, "ecdsa-sha2-nistp256"),
     ({"ssh-rsa": A}, "rsa-sha2-512")],
    ids=["nothing-known-keeps-order", "known-type-first", "rsa-signed-with-sha2"],
)
def test_preferred_key_types_put_a_known_type_first(known: dict, first: str):
    ordered = preferred_key_types(known, OFFERED)
    assert ordered[0] == first
    assert sorted(ordered) == sorted(OFFERED)
