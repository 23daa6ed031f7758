"""Minion: one host behind one kept-open SSH connection, with its commands, files, Docker, facts.

This is what the rest of Bosun holds for a minion; Fleet holds one per inventory entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bosun.minion import commands
from bosun.minion import containers as docker_ops
from bosun.minion.address import Address, label
from bosun.minion.commands import CommandResult
from bosun.minion.docker import MinionDocker
from bosun.minion.facts import MinionFacts, gather_facts
from bosun.minion.files import RemoteFiles
from bosun.minion.ssh import SSHConnection


class Minion:
    """A minion's connection and everything done over it; connects on first use.

    Thread-safe: commands, SFTP and Docker calls from several threads share the one connection.
    """

    def __init__(
        self,
        address: Address,
        *,
        connect_timeout: float = 5.0,
        keepalive: float = 15.0,
        command_timeout: float = 60.0,
        docker_timeout: float = 60.0,
    ) -> None:
        self.address = address
        self.name = address.name
        self.label = label(address)
        self.command_timeout = command_timeout
        self.ssh = SSHConnection(address, connect_timeout=connect_timeout, keepalive=keepalive)
        self.files = RemoteFiles(self.ssh)
        self.docker = MinionDocker(self.ssh, timeout=docker_timeout)

    def connect(self) -> None:
        """Connect now rather than on first use. Raises MinionUnreachable, HostKeyError,
        MinionAuthError."""
        self.ssh.transport()

    def run(
        self, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        """See commands.run: any exit code is returned."""
        return commands.run(self.ssh, argv, stdin=stdin, timeout=self._timeout(timeout))

    def check(
        self, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        """See commands.check: raises RemoteCommandError unless argv exited 0."""
        return commands.check(self.ssh, argv, stdin=stdin, timeout=self._timeout(timeout))

    def upload(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """See RemoteFiles.upload: atomic replace."""
        self.files.upload(path, data, mode)

    def read_file(self, path: str) -> bytes | None:
        """See RemoteFiles.read: None when missing."""
        return self.files.read(path)

    def facts(self) -> MinionFacts:
        return gather_facts(self.ssh, self.docker, timeout=self.command_timeout)

    def containers(self, labels: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
        """See MinionDocker.containers: one API call, raw entries."""
        return self.docker.containers(labels)

    def images(self) -> frozenset[str]:
        """See containers.images: every repo:tag and image id, in one call."""
        return docker_ops.images(self.docker)

    def inspect(self, container_id: str) -> dict[str, Any]:
        """See containers.inspect: Docker's full answer for one container. Raises
        DockerNotFound when it is gone."""
        return docker_ops.inspect(self.docker, container_id)

    def _timeout(self, timeout: float | None) -> float:
        return self.command_timeout if timeout is None else timeout

    def abort(self) -> None:
        """Drop the connection from another thread, so a call stuck on it fails now."""
        self.ssh.drop()

    def close(self) -> None:
        self.docker.close()
        self.files.close()
        self.ssh.close()

    def __enter__(self) -> Minion:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Minion({self.label})"
