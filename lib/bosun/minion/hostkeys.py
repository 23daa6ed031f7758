"""Host key checking against an OpenSSH known_hosts file, before anything is sent to a minion.

Unknown key: an error, unless the minion's policy is `accept-new`, which records it. Changed key:
always an error naming both fingerprints. Plain, `[host]:port` and hashed entries are understood.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from collections.abc import Sequence

import paramiko

from bosun.errors import ConfigError
from bosun.minion.address import HOST_KEY_POLICIES, Address, known_hosts_path, label
from bosun.minion.errors import ChangedHostKey, HostKeyError, UnknownHostKey

# Threads of one process record keys one at a time; flock() keeps other processes out.
_RECORD_LOCK = threading.Lock()
_RSA_SIGNATURES = ("rsa-sha2-512", "rsa-sha2-256")


def known_hosts_name(host: str, port: int) -> str:
    """The name OpenSSH files a host's key under: `host` on port 22, `[host]:port` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key_blob: bytes) -> str:
    """`SHA256:...` of a public key blob, exactly as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(key_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def describe_key(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {fingerprint(key.asbytes())}"


def load_known_hosts(path: str) -> paramiko.HostKeys:
    """Parse the file; a missing file is an empty one.

    Raises HostKeyError when a line holds malformed key data (OpenSSH would refuse it too).
    """
    keys = paramiko.HostKeys()
    if not os.path.exists(path):
        return keys
    try:
        keys.load(path)
    except paramiko.hostkeys.InvalidHostKey as e:
        raise HostKeyError(f"{path}: malformed known_hosts line {e.line!r}", host=path) from e
    except OSError as e:
        raise HostKeyError(f"{path}: cannot read known_hosts: {e}", host=path) from e
    return keys


def preferred_key_types(known: dict[str, paramiko.PKey], offered: Sequence[str]) -> list[str]:
    """Reorder the client's host key algorithms so a server with several keys shows a known one.

    `known` maps key type to key for this host; without it, a server holding both an RSA and an
    ed25519 key could present the one we have not recorded and look like an unknown host.
    """
    wanted: list[str] = []
    for key_type in known:
        if key_type == "ssh-rsa":
            wanted += [s for s in _RSA_SIGNATURES if s in offered]
        if key_type in offered:
            wanted.append(key_type)
    return wanted + [t for t in offered if t not in wanted]


class HostKeyChecker:
    """Checks (and under `accept-new`, records) one minion's host key."""

    def __init__(self, address: Address) -> None:
        if address.host_key_policy not in HOST_KEY_POLICIES:
            raise ConfigError(
                f"{label(address)}: bosun_host_key_policy={address.host_key_policy!r}, "
                f"expected one of {', '.join(HOST_KEY_POLICIES)}"
            )
        self.address = address
        self.path = known_hosts_path(address)
        self.name = known_hosts_name(address.host, address.port)

    def known_keys(self) -> dict[str, paramiko.PKey]:
        """Key type -> key recorded for this minion (empty when unknown)."""
        return dict(load_known_hosts(self.path).lookup(self.name) or {})

    def check(self, offered: paramiko.PKey) -> None:
        """Accept the server's key or raise.

        Raises UnknownHostKey (not recorded, policy strict), ChangedHostKey (recorded differently).
        """
        verdict = self._verdict(self.known_keys(), offered)
        if verdict == "new" and self.address.host_key_policy == "accept-new":
            self._record(offered)
        elif verdict == "new":
            raise UnknownHostKey(
                f"{label(self.address)}: host key not in {self.path} "
                f"(offered {describe_key(offered)}); "
                "add it or set bosun_host_key_policy=accept-new",
                host=self.address.name,
            )

    def _verdict(self, known: dict[str, paramiko.PKey], offered: paramiko.PKey) -> str:
        if not known:
            return "new"
        expected = known.get(offered.get_name()) or next(iter(known.values()))
        if expected.asbytes() == offered.asbytes():
            return "ok"
        expected_fp, offered_fp = describe_key(expected), describe_key(offered)
        raise ChangedHostKey(
            f"{label(self.address)}: HOST KEY CHANGED: {self.path} has {expected_fp} for "
            f"{self.name}, the host offered {offered_fp}; if the minion was reinstalled, "
            "remove the old line (ssh-keygen -R) and connect again",
            host=self.address.name,
            expected=expected_fp,
            offered=offered_fp,
        )

    def _record(self, offered: paramiko.PKey) -> None:
        """Append the key under a lock, re-checking in case another process just recorded one."""
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with _RECORD_LOCK, open(self.path, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            if self._verdict(self.known_keys(), offered) == "ok":
                return
            size = f.seek(0, os.SEEK_END)
            last = b"\n"
            if size:
                f.seek(size - 1)
                last = f.read(1)
            line = paramiko.hostkeys.HostKeyEntry([self.name], offered).to_line()
            f.write((b"" if last == b"\n" else b"\n") + line.encode("ascii"))
            f.flush()
            os.fsync(f.fileno())
