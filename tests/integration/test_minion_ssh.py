"""The kept-open SSH connection against a real sshd: host keys, reconnects, unreachable hosts."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from bosun.minion import (
    ChangedHostKey,
    Minion,
    MinionAuthError,
    MinionUnreachable,
    UnknownHostKey,
)

from .sshd import LocalSSHD, free_port, keygen, sshd_fixture

pytestmark = pytest.mark.integration
sshd = sshd_fixture()


def test_one_connection_serves_many_commands(sshd: LocalSSHD) -> None:
    with Minion(sshd.address()) as m:
        outputs = [m.check(["echo", str(i)]).stdout for i in range(3)]
        assert outputs == [b"0\n", b"1\n", b"2\n"]
        assert m.ssh.connects == 1


def test_unknown_host_key_is_refused(sshd: LocalSSHD) -> None:
    sshd.known_hosts.write_text("")
    with Minion(sshd.address()) as m, pytest.raises(UnknownHostKey) as caught:
        m.run(["true"])
    message = str(caught.value)
    assert f"minion-t (127.0.0.1:{sshd.port}): host key not in {sshd.known_hosts}" in message
    assert "bosun_host_key_policy=accept-new" in message
    assert sshd.fingerprint() in message
    assert sshd.known_hosts.read_text() == ""


def test_missing_known_hosts_file_is_refused_and_not_created(sshd: LocalSSHD) -> None:
    missing = sshd.root / "nowhere" / "known_hosts"
    with Minion(sshd.address(known_hosts_file=str(missing))) as m:
        with pytest.raises(UnknownHostKey, match="host key not in"):
            m.connect()
    assert not missing.parent.exists()


def test_key_filed_without_the_port_does_not_count(sshd: LocalSSHD) -> None:
    # OpenSSH files non-22 ports as [host]:port; a bare "127.0.0.1" line is another host.
    bare = sshd.known_hosts_line().replace(f"[127.0.0.1]:{sshd.port}", "127.0.0.1")
    sshd.known_hosts.write_text(bare)
    with Minion(sshd.address()) as m, pytest.raises(UnknownHostKey):
        m.connect()


def test_changed_host_key_is_refused_with_both_fingerprints(sshd: LocalSSHD) -> None:
    old = sshd.fingerprint()
    recorded = sshd.known_hosts.read_text()
    sshd.regenerate_host_key()
    new = sshd.fingerprint()
    assert old != new
    with Minion(sshd.address(host_key_policy="accept-new")) as m:
        with pytest.raises(ChangedHostKey) as caught:
            m.connect()
    error = caught.value
    assert (error.expected, error.offered) == (f"ssh-ed25519 {old}", f"ssh-ed25519 {new}")
    assert old in str(error) and new in str(error)
    assert f"minion-t (127.0.0.1:{sshd.port})" in str(error)
    assert sshd.known_hosts.read_text() == recorded  # accept-new never takes a changed key


def test_kept_open_connection_checks_the_key_again_on_reconnect(sshd: LocalSSHD) -> None:
    with Minion(sshd.address()) as m:
        m.check(["true"])
        sshd.regenerate_host_key()
        with pytest.raises(ChangedHostKey):
            m.run(["true"])


def test_accept_new_records_the_key_as_openssh_would(sshd: LocalSSHD) -> None:
    sshd.known_hosts.write_text("# comment without a newline")
    with Minion(sshd.address(host_key_policy="accept-new")) as m:
        m.check(["true"])
    lines = sshd.known_hosts.read_text().splitlines()
    assert lines == ["# comment without a newline", sshd.known_hosts_line().strip()]
    found = subprocess.run(
        ["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(sshd.known_hosts)],
        capture_output=True,
        check=False,
    )
    assert found.returncode == 0
    with Minion(sshd.address()) as strict:
        strict.check(["true"])
    assert len(sshd.known_hosts.read_text().splitlines()) == 2  # not recorded twice


def test_hashed_known_hosts_entries_are_understood(sshd: LocalSSHD) -> None:
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(sshd.known_hosts)], check=True)
    assert sshd.known_hosts.read_text().startswith("|1|")
    with Minion(sshd.address()) as m:
        assert m.check(["echo", "ok"]).stdout == b"ok\n"


def test_reconnects_once_after_sshd_restart(sshd: LocalSSHD) -> None:
    with Minion(sshd.address()) as m:
        m.check(["true"])
        sshd.restart()  # kills the session processes too: the kept-open transport is gone
        assert m.check(["echo", "again"]).stdout == b"again\n"
        assert m.ssh.connects == 2


def test_unreachable_while_sshd_is_down_then_back(sshd: LocalSSHD) -> None:
    with Minion(sshd.address(), connect_timeout=2) as m:
        m.check(["true"])
        sshd.stop()
        started = time.monotonic()
        with pytest.raises(MinionUnreachable) as caught:
            m.run(["true"])
        assert time.monotonic() - started < 1.5
        assert f"minion-t (127.0.0.1:{sshd.port})" in str(caught.value)
        sshd.start()
        assert m.check(["echo", "back"]).stdout == b"back\n"


def test_closed_port_fails_fast(sshd: LocalSSHD) -> None:
    port = free_port()
    with Minion(sshd.address(port=port), connect_timeout=3) as m:
        started = time.monotonic()
        refused = rf"minion-t \(127.0.0.1:{port}\): cannot connect"
        with pytest.raises(MinionUnreachable, match=refused):
            m.run(["true"])
        assert time.monotonic() - started < 0.5


def test_silent_listener_fails_within_the_connect_timeout(sshd: LocalSSHD) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with Minion(sshd.address(port=port), connect_timeout=0.5) as m:
            started = time.monotonic()
            with pytest.raises(MinionUnreachable, match="SSH handshake failed"):
                m.run(["true"])
            assert 0.4 < time.monotonic() - started < 2.0


def test_foreign_client_key_is_refused(sshd: LocalSSHD) -> None:
    other = sshd.root / "other_key"
    keygen(other)
    with Minion(sshd.address(private_key_file=str(other))) as m:
        refused = rf"minion-t \(127.0.0.1:{sshd.port}\): user 'root' with key {other} was refused"
        with pytest.raises(MinionAuthError, match=refused):
            m.connect()


def test_missing_private_key_file_is_named(sshd: LocalSSHD) -> None:
    missing = sshd.root / "no_such_key"
    with Minion(sshd.address(private_key_file=str(missing))) as m:
        with pytest.raises(MinionAuthError, match=f"cannot load private key {missing}"):
            m.connect()
