"""Running commands on a minion: argv in, CommandResult out, over the kept-open SSH connection.

`remote_command_line` is the one place in Bosun that turns argv into a shell string (`shlex.join`,
once); nothing else formats a remote command. The minion user's login shell must be POSIX sh-like.
"""

from __future__ import annotations

import select
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

import paramiko

from bosun.minion.errors import CommandTimeout, MinionUnreachable, RemoteCommandError
from bosun.minion.ssh import SSHConnection

_CHUNK = 32768
# While stdin is still being sent we poll for window space this often; reads wake on data.
_SEND_POLL = 0.02


@dataclass(frozen=True)
class CommandResult:
    """What a finished remote command left behind. `exit_code` is -1 if killed by a signal."""

    host: str
    argv: tuple[str, ...]
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def check(self) -> CommandResult:
        """Return self if the command exited 0. Raises RemoteCommandError otherwise."""
        if self.exit_code != 0:
            raise RemoteCommandError(self.host, self.argv, self.exit_code, self.stderr)
        return self


def remote_command_line(argv: Sequence[str]) -> str:
    """Quote argv for the remote shell so each element arrives as exactly one literal argument.

    Raises TypeError for a bare string or non-str elements, ValueError for an empty argv or a NUL
    byte (which no argument can carry).
    """
    if isinstance(argv, str | bytes):
        raise TypeError(f"argv must be a list of str, not a single {type(argv).__name__}")
    args = list(argv)
    if not args:
        raise ValueError("argv is empty")
    for arg in args:
        if not isinstance(arg, str):
            raise TypeError(f"argv element {arg!r} is {type(arg).__name__}, not str")
        if "\0" in arg:
            raise ValueError(f"argv element {arg!r} contains a NUL byte")
    return shlex.join(args)


def start(conn: SSHConnection, argv: Sequence[str]) -> paramiko.Channel:
    """Start argv on the minion and return its channel (for long-lived streams like Docker's).

    Raises MinionUnreachable, HostKeyError, MinionAuthError.
    """
    line = remote_command_line(argv)
    chan = conn.open_session()
    try:
        chan.exec_command(line)
    except (paramiko.SSHException, EOFError, OSError) as e:
        chan.close()
        raise MinionUnreachable(
            f"{conn.label}: could not start {list(argv)!r}: {e or type(e).__name__}",
            host=conn.address.name,
        ) from e
    return chan


def run(
    conn: SSHConnection,
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    timeout: float = 60.0,
) -> CommandResult:
    """Run argv to completion, feeding it `stdin`; any exit code is returned, not raised.

    Raises CommandTimeout (the command may still be running there), MinionUnreachable (also when
    the connection is lost mid-command: it is not retried, it may have had effects).
    """
    deadline = time.monotonic() + timeout
    chan = start(conn, argv)
    try:
        out, err = _communicate(chan, stdin or b"", deadline)
        if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
            raise CommandTimeout(conn.address.name, argv, timeout)
        code = chan.recv_exit_status()
    except TimeoutError as e:
        raise CommandTimeout(conn.address.name, argv, timeout) from e
    finally:
        chan.close()
    if code == -1 and not conn.connected:
        raise MinionUnreachable(
            f"{conn.label}: connection lost while running {list(argv)!r}",
            host=conn.address.name,
        )
    return CommandResult(conn.address.name, tuple(argv), code, out, err)


def check(
    conn: SSHConnection,
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    timeout: float = 60.0,
) -> CommandResult:
    """`run`, then raise RemoteCommandError (host, argv, exit code, stderr) unless it exited 0."""
    return run(conn, argv, stdin=stdin, timeout=timeout).check()


def _communicate(chan: paramiko.Channel, stdin: bytes, deadline: float) -> tuple[bytes, bytes]:
    """Send stdin and drain stdout and stderr together (so neither side's window fills) to EOF.

    Raises TimeoutError at the deadline.
    """
    out, err = bytearray(), bytearray()
    sent = 0
    if not stdin:
        chan.shutdown_write()
    wake = chan.fileno()  # readable whenever either stream has data, at EOF, and on close
    while True:
        _drain(chan, out, err)
        if chan.eof_received or chan.closed:
            _drain(chan, out, err)  # data that landed between the drain and the EOF check
            return bytes(out), bytes(err)
        if sent < len(stdin) and chan.send_ready():
            try:
                sent += chan.send(stdin[sent : sent + _CHUNK])
            except OSError:
                sent = len(stdin)  # closed under us: the loop sees it and returns
            if sent == len(stdin):
                chan.shutdown_write()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sending = sent < len(stdin)
        select.select([wake], [], [], min(remaining, _SEND_POLL) if sending else remaining)


def _drain(chan: paramiko.Channel, out: bytearray, err: bytearray) -> None:
    while chan.recv_ready():
        out += chan.recv(_CHUNK)
    while chan.recv_stderr_ready():
        err += chan.recv_stderr(_CHUNK)
