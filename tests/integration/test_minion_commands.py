"""Remote commands over a real sshd: argv arrives literally, stdin, exit codes, timeouts, facts."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from bosun.minion import CommandTimeout, Minion, RemoteCommandError, parse_facts
from bosun.minion.facts import FACTS_ARGV

from .sshd import LocalSSHD, sshd_fixture

pytestmark = pytest.mark.integration
sshd = sshd_fixture()


def hostile_arguments(marker: Path) -> list[str]:
    """Arguments that would run `touch MARKER...` or change meaning if a shell interpreted them."""
    m = str(marker)
    return [
        f"$(touch {m}-subst)",
        f"`touch {m}-backtick`",
        f"; touch {m}-semicolon",
        f"&& touch {m}-and",
        f"| touch {m}-pipe",
        f"\ntouch {m}-newline\n",
        f"' ; touch {m}-quote ; '",
        f'" ; touch {m}-dquote ; "',
        f"> {m}-redirect",
        "*",
        "~",
        "$HOME",
        "${PATH}",
        "a\\b",
        "",
        " spaces  inside ",
        "tab\there",
        "ünïcødé ✓",
        "-n",
    ]


def test_every_argument_arrives_literally_and_nothing_runs(sshd: LocalSSHD, tmp_path: Path):
    marker = tmp_path / "marker"
    args = hostile_arguments(marker)
    with Minion(sshd.address()) as m:
        result = m.check(["printf", "%s\\0", *args])
    assert result.stdout.decode().split("\0")[:-1] == args
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no marker-* file appeared


def test_hostile_program_name_is_not_a_shell_command(sshd: LocalSSHD, tmp_path: Path):
    marker = tmp_path / "x"
    with Minion(sshd.address()) as m:
        result = m.run([f"true; touch {marker}"])
    assert result.exit_code == 127  # "command not found": the whole string was one word
    assert not marker.exists()


def test_exit_code_stdout_and_stderr_come_back(sshd: LocalSSHD):
    with Minion(sshd.address()) as m:
        result = m.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        assert (result.exit_code, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
        with pytest.raises(RemoteCommandError) as caught:
            m.check(["ls", "/no/such/path"])
    error = caught.value
    assert (error.host, error.argv, error.exit_code) == ("minion-t", ["ls", "/no/such/path"], 2)
    assert b"/no/such/path" in error.stderr
    assert str(error).startswith("minion-t: ['ls', '/no/such/path'] exited 2: ")


def test_stdin_bytes_pass_through_unchanged(sshd: LocalSSHD):
    data = bytes(range(256)) * 20000  # 5 MB: more than both SSH windows, in and out at once
    with Minion(sshd.address()) as m:
        assert m.check(["cat"], stdin=data).stdout == data
        assert m.check(["wc", "-c"], stdin=b"").stdout.strip() == b"0"


def test_hung_command_times_out_and_the_connection_survives(sshd: LocalSSHD, tmp_path: Path):
    pid_file = tmp_path / "hung.pid"
    argv = ["sh", "-c", 'echo $$ > "$0"; exec sleep 30', str(pid_file)]
    try:
        with Minion(sshd.address()) as m:
            started = time.monotonic()
            with pytest.raises(CommandTimeout) as caught:
                m.run(argv, timeout=0.5)
            assert 0.5 <= time.monotonic() - started < 1.5
            assert str(caught.value).startswith(f"minion-t: {argv!r} did not finish within 0.5 s")
            assert m.check(["echo", "still here"]).stdout == b"still here\n"
            assert m.ssh.connects == 1
    finally:
        # Without a pty, closing the channel does not stop the remote process (documented).
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_threads_share_the_one_connection(sshd: LocalSSHD):
    results: dict[int, bytes] = {}
    with Minion(sshd.address()) as m:

        def work(i: int) -> None:
            results[i] = m.check(["echo", str(i)]).stdout

        threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert m.ssh.connects == 1
    assert results == {i: f"{i}\n".encode() for i in range(12)}


def test_facts_script_on_a_real_shell(sshd: LocalSSHD):
    # The sshd is this machine, so its facts must equal what Python sees here.
    with Minion(sshd.address()) as m:
        output = m.check(FACTS_ARGV).text
    facts = parse_facts("minion-t", output, {"Version": "20.10.24", "ApiVersion": "1.41"})
    assert facts.hostname == socket.gethostname()
    assert facts.cpus == os.cpu_count()
    assert facts.kernel == os.uname().release
    assert facts.architecture == os.uname().machine
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0]
    assert facts.memory_bytes == int(meminfo.split()[1]) * 1024
    assert facts.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    os_release = Path("/etc/os-release").read_text()
    assert f'PRETTY_NAME="{facts.os_name}"' in os_release
