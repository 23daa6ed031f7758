"""Docker over the minion's kept-open SSH connection: a docker-py client whose HTTP connections
are `docker system dial-stdio` channels on our already host-key-checked transport.

docker-py's own ssh:// adapter would open a second SSH connection of its own; we subclass its
connection, pool and adapter classes to use ours instead, with HTTP keep-alive across calls.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import docker
import docker.errors
import paramiko
import requests.exceptions
from docker.constants import DEFAULT_MAX_POOL_SIZE, MINIMUM_DOCKER_API_VERSION
from docker.transport import sshconn

from bosun.minion import commands
from bosun.minion.errors import DockerAPIError, DockerNotFound, MinionUnreachable
from bosun.minion.ssh import SSHConnection

T = TypeVar("T")
DIAL_STDIO = ["docker", "system", "dial-stdio"]
# Any URL under this prefix goes to our adapter; docker-py checks it to find the raw channel.
_BASE_URL = "http+docker://ssh"


class _ChannelConnection(sshconn.SSHConnection):
    """One HTTP connection = one dial-stdio channel, opened through SSHConnection."""

    def __init__(self, pool: _ChannelPool) -> None:
        super().__init__(ssh_transport=None, timeout=pool.timeout, host=pool.minion.address.host)
        self.pool = pool

    def connect(self) -> None:
        chan = commands.start(self.pool.minion, DIAL_STDIO)
        chan.settimeout(self.timeout)
        self.sock = chan
        self.pool.dials += 1

    def close(self) -> None:
        chan = self.sock
        # If dial-stdio itself failed (no docker, daemon down), why is on its stderr.
        if isinstance(chan, paramiko.Channel) and chan.recv_stderr_ready():
            why = chan.recv_stderr(4096).decode("utf-8", "replace").strip()
            self.pool.dial_errors.append(why)
        super().close()


class _ChannelPool(sshconn.SSHConnectionPool):
    def __init__(self, conn: SSHConnection, timeout: float, maxsize: int) -> None:
        super().__init__(ssh_client=None, timeout=timeout, maxsize=maxsize)
        self.minion = conn
        self.dial_errors: collections.deque[str] = collections.deque(maxlen=1)
        self.dials = 0  # dial-stdio channels opened (one per HTTP connection made)

    def _new_conn(self) -> _ChannelConnection:
        return _ChannelConnection(self)

    def _get_conn(self, timeout: float | None) -> _ChannelConnection:
        # docker-py skips urllib3's dropped-connection check (it costs two fds per channel);
        # a channel whose transport died is cheap to spot, so discard it here instead.
        conn = super()._get_conn(timeout)
        chan = conn.sock
        if chan is not None and (
            chan.closed or chan.eof_received or not chan.get_transport().is_active()
        ):
            conn.close()
        return conn


class _ChannelAdapter(sshconn.SSHHTTPAdapter):
    """All requests share one pool: every URL reaches the same dockerd (docker-py keys pools by
    full URL, which would open a new channel for each new path)."""

    def __init__(self, conn: SSHConnection, timeout: float, max_pool_size: int) -> None:
        # shell_out=True only stops the base class from making its own paramiko client.
        super().__init__(_BASE_URL, timeout, max_pool_size=max_pool_size, shell_out=True)
        self.pool = _ChannelPool(conn, timeout, max_pool_size)

    def get_connection(self, url: str, proxies: Any = None) -> _ChannelPool:
        return self.pool

    def close(self) -> None:
        super().close()
        self.pool.close()


class _DockerClient(docker.DockerClient):
    """docker.DockerClient around an APIClient we built (its own __init__ would build one)."""

    def __init__(self, api: docker.APIClient) -> None:
        self.api = api


def _api_client(adapter: _ChannelAdapter, version: str, timeout: float) -> docker.APIClient:
    # The placeholder tcp URL only gets past APIClient's URL parsing; nothing connects to it.
    api = docker.APIClient(base_url="tcp://127.0.0.1:9", version=version, timeout=timeout)
    api.mount(_BASE_URL, adapter)
    api.base_url = _BASE_URL
    return api


def label_filters(labels: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Docker's label filter: `{"a": "1", "b": None}` -> containers with a=1 and any b."""
    return {"label": [k if v is None else f"{k}={v}" for k, v in sorted(labels.items())]}


class MinionDocker:
    """The minion's Docker daemon, reached over its SSHConnection.

    `client` is a full docker.DockerClient for bosun.minion's own modules; code outside
    bosun.minion goes through the methods here, which raise Bosun errors.
    """

    def __init__(
        self,
        conn: SSHConnection,
        *,
        timeout: float = 60.0,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        api_version: str | None = None,
    ) -> None:
        self.conn = conn
        self.timeout = timeout
        self.max_pool_size = max_pool_size
        self.api_version = api_version
        self._lock = threading.Lock()
        self._adapter: _ChannelAdapter | None = None
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        """The docker-py client; the first use asks dockerd for its API version.

        Raises MinionUnreachable, DockerAPIError.
        """
        with self._lock:
            if self._client is None:
                adapter = _ChannelAdapter(self.conn, self.timeout, self.max_pool_size)
                self._adapter = adapter
                version = self.api_version
                if version is None:
                    probe = _api_client(adapter, MINIMUM_DOCKER_API_VERSION, self.timeout)
                    with self.errors("version"):
                        version = probe.version(api_version=False)["ApiVersion"]
                self._client = _DockerClient(_api_client(adapter, version, self.timeout))
            return self._client

    def call(self, operation: str, fn: Callable[[docker.DockerClient], T]) -> T:
        """fn(client) with docker-py's errors turned into Bosun's (see `errors`)."""
        client = self.client
        with self.errors(operation):
            return fn(client)

    def ping(self) -> None:
        """Raises MinionUnreachable, DockerAPIError."""
        self.call("ping", lambda c: c.api.ping())

    def version(self) -> dict[str, Any]:
        """dockerd's /version answer (Version, ApiVersion, Os, Arch, KernelVersion...)."""
        return self.call("version", lambda c: c.api.version())

    def containers(self, labels: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
        """All containers (running or not) carrying `labels`, in one API call, no inspect.

        Each is Docker's raw /containers/json entry: Id, Names, Image, State, Status, Labels,
        Created, NetworkSettings. Raises MinionUnreachable, DockerAPIError.
        """
        filters = label_filters(labels) if labels else None
        return self.call("list containers", lambda c: c.api.containers(all=True, filters=filters))

    @property
    def dials(self) -> int:
        """How many dial-stdio channels were opened: 1 for any number of sequential calls."""
        return self._adapter.pool.dials if self._adapter else 0

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = self._adapter = None

    @contextlib.contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        """Translate docker-py and HTTP errors raised inside into Bosun's.

        NotFound -> DockerNotFound; other API errors -> DockerAPIError (status code kept);
        connection failures -> MinionUnreachable, with dial-stdio's complaint when there was one;
        other docker-py errors (bad arguments, stream errors) -> DockerAPIError without a code.
        """
        name = self.conn.address.name
        try:
            yield
        except docker.errors.NotFound as e:
            raise DockerNotFound(name, operation, e.status_code, _explain(e)) from e
        except docker.errors.APIError as e:
            raise DockerAPIError(name, operation, e.status_code, _explain(e)) from e
        except requests.exceptions.RequestException as e:
            why = self._adapter.pool.dial_errors if self._adapter else ()
            detail = f" (docker system dial-stdio: {why[-1]})" if why and why[-1] else ""
            raise MinionUnreachable(
                f"{self.conn.label}: docker {operation} failed: {e}{detail}", host=name
            ) from e
        except docker.errors.DockerException as e:
            raise DockerAPIError(name, operation, None, str(e)) from e


def _explain(e: docker.errors.APIError) -> str:
    return str(e.explanation or e)
