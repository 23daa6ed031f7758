"""Files on a minion over SFTP on the kept-open connection: atomic upload, read.

An upload writes a temp file beside the target, sets its mode, then renames it over the target
(posix-rename), so a reader such as haproxy never sees half a config.
"""

from __future__ import annotations

import errno
import posixpath
import stat
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

import paramiko

from bosun.minion.errors import MinionUnreachable, RemoteFileError
from bosun.minion.ssh import SSHConnection

T = TypeVar("T")


class RemoteFiles:
    """SFTP for one minion: one subsystem channel, reopened when the connection was replaced."""

    def __init__(self, conn: SSHConnection) -> None:
        self.conn = conn
        self._lock = threading.Lock()  # one SFTP request stream; keep operations whole
        self._sftp: paramiko.SFTPClient | None = None

    def upload(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Atomically replace `path` with `data` and permission bits `mode`.

        Raises RemoteFileError (e.g. no such directory), MinionUnreachable.
        """
        if not posixpath.isabs(path):
            raise ValueError(f"{self.conn.label}: remote path {path!r} must be absolute")
        tmp = posixpath.join(
            posixpath.dirname(path),
            f".{posixpath.basename(path)}.bosun-{uuid.uuid4().hex[:12]}.tmp",
        )

        def put(sftp: paramiko.SFTPClient) -> None:
            try:
                with sftp.open(tmp, "wb") as f:
                    f.set_pipelined(True)
                    f.write(data)
                sftp.chmod(tmp, stat.S_IMODE(mode))
                sftp.posix_rename(tmp, path)
            except BaseException:
                _remove_quietly(sftp, tmp)
                raise

        self._call("upload to", path, put)

    def read(self, path: str) -> bytes | None:
        """The file's content, or None when it does not exist.

        Raises RemoteFileError (e.g. permission denied, a directory), MinionUnreachable.
        """

        def get(sftp: paramiko.SFTPClient) -> bytes | None:
            try:
                with sftp.open(path, "rb") as f:
                    f.prefetch()
                    return f.read()
            except FileNotFoundError:
                return None

        return self._call("read of", path, get)

    def close(self) -> None:
        with self._lock:
            if self._sftp is not None:
                self._sftp.close()
                self._sftp = None

    def _call(self, what: str, path: str, op: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run op; if the connection had dropped, reconnect and run it once more (ops are
        idempotent: a whole-file read, or a write to a fresh temp file then a rename)."""
        with self._lock:
            for attempt in (1, 2):
                sftp = self._client()
                try:
                    return op(sftp)
                except OSError as e:
                    if e.errno is not None or self.conn.connected:
                        raise _file_error(self.conn, what, path, e) from e
                    failure: Exception = e
                except (paramiko.SSHException, EOFError) as e:
                    failure = e
                self._sftp = None
                if attempt == 2:
                    raise MinionUnreachable(
                        f"{self.conn.label}: {what} {path} failed, connection lost: {failure}",
                        host=self.conn.address.name,
                    ) from failure
        raise AssertionError("unreachable")

    def _client(self) -> paramiko.SFTPClient:
        sftp = self._sftp
        if sftp is not None and not sftp.get_channel().closed:
            return sftp
        chan = self.conn.open_session()
        try:
            chan.invoke_subsystem("sftp")
            self._sftp = paramiko.SFTPClient(chan)
        except (paramiko.SSHException, EOFError, OSError) as e:
            chan.close()
            raise MinionUnreachable(
                f"{self.conn.label}: cannot start the sftp subsystem: {e}",
                host=self.conn.address.name,
            ) from e
        return self._sftp


def _file_error(conn: SSHConnection, what: str, path: str, e: OSError) -> RemoteFileError:
    reason = errno.errorcode.get(e.errno or 0, "") + (f" {e.strerror}" if e.strerror else "")
    return RemoteFileError(conn.address.name, path, what, reason.strip() or str(e))


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    try:
        sftp.remove(path)
    except (OSError, paramiko.SSHException, EOFError):
        pass  # best effort: the original error is what the caller needs to see
