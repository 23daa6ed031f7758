"""The only door to the minions: SSH connections, Docker over SSH, host keys, facts, uploads.

Nothing else in Bosun imports paramiko or docker. Hold a `Minion` per host (or a `Fleet` of them);
remote commands are argv lists, quoted once in `commands.remote_command_line`.
"""

from bosun.minion.address import Address
from bosun.minion.commands import CommandResult, remote_command_line
from bosun.minion.docker import MinionDocker
from bosun.minion.errors import (
    ChangedHostKey,
    CommandTimeout,
    DockerAPIError,
    DockerNotFound,
    FactsError,
    HostKeyError,
    MinionAuthError,
    MinionTimeout,
    MinionUnreachable,
    RemoteCommandError,
    RemoteFileError,
    UnknownHostKey,
)
from bosun.minion.facts import MinionFacts, parse_facts
from bosun.minion.fleet import Fleet, Outcome
from bosun.minion.host import Minion
from bosun.minion.ssh import SSHConnection

__all__ = [
    "Address",
    "ChangedHostKey",
    "CommandResult",
    "CommandTimeout",
    "DockerAPIError",
    "DockerNotFound",
    "FactsError",
    "Fleet",
    "HostKeyError",
    "Minion",
    "MinionAuthError",
    "MinionDocker",
    "MinionFacts",
    "MinionTimeout",
    "MinionUnreachable",
    "Outcome",
    "RemoteCommandError",
    "RemoteFileError",
    "SSHConnection",
    "UnknownHostKey",
    "parse_facts",
    "remote_command_line",
]
