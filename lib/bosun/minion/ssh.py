"""One kept-open SSH transport per minion: connect, check the host key, authenticate, keep alive.

Commands, SFTP and Docker all open channels on this transport. When it has dropped (the minion
rebooted, its sshd was restarted) the next channel reconnects once before MinionUnreachable.
"""

from __future__ import annotations

import logging
import socket
import threading

import paramiko

from bosun.minion.address import Address, label, private_key_paths
from bosun.minion.errors import MinionAuthError, MinionUnreachable
from bosun.minion.hostkeys import HostKeyChecker, preferred_key_types

# paramiko logs each failed handshake with a traceback at ERROR, and our errors say it better:
# our transports log to a channel of our own, quiet unless someone lowers its level.
PARAMIKO_LOG = "bosun.minion.paramiko"
logging.getLogger(PARAMIKO_LOG).setLevel(logging.CRITICAL)

# How paramiko reports a transport that died under us (besides an inactive transport).
_DROPPED = (paramiko.SSHException, EOFError, OSError)


class SSHConnection:
    """A thread-safe, lazily opened, kept-open SSH connection to one minion."""

    def __init__(
        self, address: Address, *, connect_timeout: float = 5.0, keepalive: float = 15.0
    ) -> None:
        self.address = address
        self.label = label(address)
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.host_keys = HostKeyChecker(address)
        self._lock = threading.Lock()
        self._transport: paramiko.Transport | None = None
        self._pkey: paramiko.PKey | None = None
        self.connects = 0  # how many times a transport was set up; tests and benches read it

    @property
    def connected(self) -> bool:
        t = self._transport
        return t is not None and t.is_active()

    def transport(self) -> paramiko.Transport:
        """The live transport, connecting first if there is none.

        Raises MinionUnreachable, HostKeyError, MinionAuthError.
        """
        with self._lock:
            t = self._transport
            if t is None or not t.is_active():
                self._transport = None
                t = self._transport = self._connect()
                self.connects += 1
            return t

    def open_session(self) -> paramiko.Channel:
        """A new session channel; reconnects once if the kept-open transport had dropped.

        Raises MinionUnreachable (also when the minion refuses more sessions), HostKeyError,
        MinionAuthError.
        """
        for attempt in (1, 2):
            t = self.transport()
            try:
                return t.open_session(timeout=self.connect_timeout)
            except paramiko.ChannelException as e:
                # The server answered, so the transport is fine: e.g. MaxSessions reached.
                raise MinionUnreachable(
                    f"{self.label}: sshd refused a new session: {e}", host=self.address.name
                ) from e
            except _DROPPED as e:
                # A live sshd answers a channel open in milliseconds; no answer means it is gone.
                self.drop(t)
                if attempt == 2:
                    raise MinionUnreachable(
                        f"{self.label}: connection dropped and reconnecting did not help: "
                        f"{e or type(e).__name__}",
                        host=self.address.name,
                    ) from e
        raise AssertionError("unreachable")

    def drop(self, transport: paramiko.Transport | None = None) -> None:
        """Close the transport (only if it is still `transport`, when given); next use reconnects.

        Safe from another thread: a call blocked on this minion then fails instead of hanging.
        """
        with self._lock:
            t = self._transport
            if t is None or (transport is not None and t is not transport):
                return
            self._transport = None
        t.close()

    def close(self) -> None:
        self.drop()

    def _connect(self) -> paramiko.Transport:
        a = self.address
        try:
            sock = socket.create_connection((a.host, a.port), timeout=self.connect_timeout)
        except OSError as e:
            raise MinionUnreachable(
                f"{self.label}: cannot connect: {e.strerror or e}", host=a.name
            ) from e
        # Many small request/reply packets: without NODELAY, Nagle's algorithm meeting the
        # peer's delayed ACK adds ~40 ms to each channel open.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = paramiko.Transport(sock)
        t.set_log_channel(PARAMIKO_LOG)
        try:
            self._handshake(t)
        except BaseException:
            t.close()
            raise
        t.set_keepalive(max(1, int(self.keepalive)))
        return t

    def _handshake(self, t: paramiko.Transport) -> None:
        a = self.address
        t.banner_timeout = t.auth_timeout = self.connect_timeout
        options = t.get_security_options()
        options.key_types = preferred_key_types(self.host_keys.known_keys(), options.key_types)
        try:
            t.start_client(timeout=self.connect_timeout)
        except _DROPPED as e:
            raise MinionUnreachable(
                f"{self.label}: SSH handshake failed: {e or type(e).__name__}", host=a.name
            ) from e
        if not t.initial_kex_done:  # start_client returns quietly when its timeout runs out
            raise MinionUnreachable(
                f"{self.label}: SSH handshake failed: no key exchange within "
                f"{self.connect_timeout:g} s",
                host=a.name,
            )
        self.host_keys.check(t.get_remote_server_key())
        key = self._private_key()
        try:
            t.auth_publickey(a.user, key)
        except paramiko.AuthenticationException as e:
            raise MinionAuthError(
                f"{self.label}: user {a.user!r} with key {private_key_paths(a)[0]} "
                f"was refused: {e}",
                host=a.name,
            ) from e
        except _DROPPED as e:
            raise MinionUnreachable(
                f"{self.label}: connection lost while authenticating: {e or type(e).__name__}",
                host=a.name,
            ) from e

    def _private_key(self) -> paramiko.PKey:
        if self._pkey is None:
            path = private_key_paths(self.address)[0]
            try:
                self._pkey = paramiko.PKey.from_path(path)
            except (OSError, paramiko.SSHException, ValueError) as e:
                raise MinionAuthError(
                    f"{self.label}: cannot load private key {path}: {e}",
                    host=self.address.name,
                ) from e
        return self._pkey

