"""How Bosun reaches a minion: one host's connection variables, checked and typed.

Bosun's own variables (pod_cidr, bosun_host_key_policy, bosun_known_hosts_file,
bosun_proxy_mode) are checked for
every host as the inventory loads; the SSH ones (ansible_host, ansible_port, ...) when
`Inventory.minions()` builds the addresses. Errors name the host and the file:line that set the
bad value.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bosun.errors import ConfigError
from bosun.inventory.builder import Where

HOST_KEY_POLICIES = ("strict", "accept-new")
# haproxy: VIPs are REDIRECTed to a local haproxy; iptables: DNAT in the kernel (bosun.proxy.dnat).
PROXY_MODES = ("haproxy", "iptables")

# Ansible's ssh connection reads each setting from these variables; when both are set the later
# name wins (ansible_ssh_host over ansible_host), and a null counts as not set.
_SSH_VARIABLES = {
    "host": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "private_key_file": ("ansible_private_key_file", "ansible_ssh_private_key_file"),
}


@dataclass(frozen=True)
class MinionAddress:
    """Where and how to open SSH to one minion."""

    name: str
    host: str
    port: int = 22
    user: str = "root"
    private_key_file: str | None = None
    known_hosts_file: str | None = None
    host_key_policy: str = "strict"  # or "accept-new"; never "accept anything"
    pod_cidr: str | None = None
    proxy_mode: str = "haproxy"  # or "iptables"


class _HostVars:
    """One host's merged variables with where each was set, for error messages."""

    def __init__(self, name: str, variables: Mapping[str, Any], origins: Mapping[str, Where]):
        self.name = name
        self.variables = variables
        self.origins = origins

    def get(self, key: str) -> Any:
        return self.variables.get(key)

    def error(self, key: str, problem: str) -> ConfigError:
        path, line = self.origins.get(key, (None, None))
        return ConfigError(f"host {self.name}: {key} {problem}", path, line)

    def text(self, key: str) -> str | None:
        """The variable as non-empty text, or None when unset. Bosun does not template."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be non-empty text, got {value!r}")
        if "{{" in value or "{%" in value:
            raise self.error(key, f"is a Jinja template ({value!r}), which Bosun does not expand")
        return value

    def ssh(self, setting: str) -> tuple[str, Any]:
        """The variable Ansible's ssh connection would use for `setting`, and its value."""
        chosen = _SSH_VARIABLES[setting][0]
        for key in _SSH_VARIABLES[setting]:
            if self.get(key) is not None:
                chosen = key
        return chosen, self.get(chosen)


def check_bosun_vars(name: str, variables: Mapping[str, Any], origins: Mapping[str, Where]) -> None:
    """Raise ConfigError if one of Bosun's own variables of host `name` is malformed."""
    host = _HostVars(name, variables, origins)
    _host_key_policy(host)
    _pod_cidr(host)
    _proxy_mode(host)
    host.text("bosun_known_hosts_file")


def minion_address(
    name: str, variables: Mapping[str, Any], origins: Mapping[str, Where]
) -> MinionAddress:
    """The SSH address of host `name`. Raises ConfigError for a malformed connection variable."""
    host = _HostVars(name, variables, origins)
    return MinionAddress(
        name=name,
        host=host.text(host.ssh("host")[0]) or name,
        port=_port(host),
        user=host.text(host.ssh("user")[0]) or "root",
        # Relative paths stay relative to the working directory, as Ansible leaves them.
        private_key_file=_expand(host.text(host.ssh("private_key_file")[0])),
        known_hosts_file=_expand(host.text("bosun_known_hosts_file")),
        host_key_policy=_host_key_policy(host),
        pod_cidr=_pod_cidr(host),
        proxy_mode=_proxy_mode(host),
    )


def _port(host: _HostVars) -> int:
    key, value = host.ssh("port")
    if value is None:
        return 22
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # Ansible accepts ansible_port="2222" as well
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise host.error(key, f"must be a port number from 1 to 65535, got {value!r}")
    return value


def _host_key_policy(host: _HostVars) -> str:
    return _choice(host, "bosun_host_key_policy", HOST_KEY_POLICIES)


def _proxy_mode(host: _HostVars) -> str:
    return _choice(host, "bosun_proxy_mode", PROXY_MODES)


def _choice(host: _HostVars, key: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first when unset), or an error naming the host and the variable."""
    value = host.get(key)
    if value is None:
        return choices[0]
    if value not in choices:
        raise host.error(key, f"must be {' or '.join(choices)}, got {value!r}")
    return value


def _pod_cidr(host: _HostVars) -> str | None:
    cidr = host.text("pod_cidr")
    if cidr is None:
        return None
    try:
        if "/" not in cidr:
            raise ValueError("no /prefix length")
        ipaddress.ip_network(cidr, strict=True)
    except ValueError as error:
        raise host.error("pod_cidr", f"must be a network like 10.244.1.0/24, got {cidr!r} "
                                     f"({error})") from error
    return cidr


def _expand(path: str | None) -> str | None:
    return None if path is None else os.path.expanduser(path)
