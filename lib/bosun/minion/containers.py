"""Container and image operations on a minion's dockerd, for the kubelet and `image push`.

Plain values in, plain values out (ids, raw Docker dicts, byte chunks), so the kubelet never
touches docker-py. Every call goes over the minion's kept-open dial-stdio channel and raises
Bosun's errors (DockerNotFound, DockerAPIError, MinionUnreachable), never docker-py's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bosun.minion.docker import MinionDocker, label_filters
from bosun.minion.errors import DockerAPIError, DockerNotFound

# A container being stopped gets this much longer than its grace period before the call gives up.
STOP_MARGIN = 15.0


def images(docker: MinionDocker) -> frozenset[str]:
    """Every `repo:tag` and image id (sha256:...) the minion holds, in one call."""

    def read(client) -> frozenset[str]:
        names: set[str] = set()
        for image in client.api.images():
            names.add(image["Id"])
            names.update(tag for tag in image.get("RepoTags") or () if tag != "<none>:<none>")
        return frozenset(names)

    return docker.call("list images", read)


def inspect(docker: MinionDocker, container_id: str) -> dict[str, Any]:
    """Docker's full inspect answer for one container."""
    return docker.call(f"inspect {container_id[:12]}",
                       lambda c: c.api.inspect_container(container_id))


def create(docker: MinionDocker, *, name: str, image: str, entrypoint: list[str] | None,
           cmd: list[str] | None, env: list[str], labels: Mapping[str, str],
           working_dir: str | None = None, hostname: str | None = None,
           network_mode: str | None = None, ipc_mode: str | None = None,
           binds: list[str] | None = None, tmpfs: Mapping[str, str] | None = None,
           port_bindings: Mapping[str, list] | None = None,
           exposed_ports: list[tuple[int, str]] | None = None, mem_limit: int | None = None,
           nano_cpus: int | None = None, cpu_shares: int | None = None,
           stop_timeout: int | None = None) -> str:
    """Create (not start) a container; returns its id. Raises DockerNotFound if the image is
    missing, DockerAPIError (409) if the name is taken."""

    def make(client) -> str:
        host_config = client.api.create_host_config(
            network_mode=network_mode, ipc_mode=ipc_mode, binds=binds or None,
            tmpfs=dict(tmpfs) if tmpfs else None,
            port_bindings=dict(port_bindings) if port_bindings else None,
            mem_limit=mem_limit, nano_cpus=nano_cpus, cpu_shares=cpu_shares,
            restart_policy={"Name": "no"})
        created = client.api.create_container(
            image=image, name=name, entrypoint=entrypoint, command=cmd, environment=env,
            labels=dict(labels), working_dir=working_dir, hostname=hostname,
            ports=exposed_ports or None, host_config=host_config, stop_timeout=stop_timeout,
            detach=True)
        return created["Id"]

    return docker.call(f"create {name}", make)


def start(docker: MinionDocker, container_id: str) -> None:
    docker.call(f"start {container_id[:12]}", lambda c: c.api.start(container_id))


def stop(docker: MinionDocker, container_id: str, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds (dockerd does the waiting)."""
    seconds = max(0, int(grace))

    def halt(client) -> None:
        client.api.stop(container_id, timeout=seconds)

    docker.call(f"stop {container_id[:12]}", halt)


def remove(docker: MinionDocker, container_id: str) -> None:
    """Remove a container (forcefully, with its anonymous volumes)."""
    docker.call(f"remove {container_id[:12]}",
                lambda c: c.api.remove_container(container_id, force=True, v=True))


def pull(docker: MinionDocker, image: str) -> None:
    """Pull an image from its registry. Raises DockerAPIError/DockerNotFound when it fails."""
    repository, tag = _split_reference(image)
    docker.call(f"pull {image}", lambda c: c.api.pull(repository, tag=tag))


def _translated(docker: MinionDocker, operation: str, chunks) -> Iterator[bytes]:
    """A docker-py stream whose errors while reading come out as Bosun's."""
    with docker.errors(operation):
        yield from chunks


def save(docker: MinionDocker, image: str) -> Iterator[bytes]:
    """The `docker save` tar stream of an image, in chunks."""
    operation = f"save {image}"
    return _translated(docker, operation,
                       docker.call(operation, lambda c: c.api.get_image(image)))


def load(docker: MinionDocker, chunks: Iterator[bytes]) -> None:
    """`docker load` of a tar stream (as `save` gives it)."""

    def put(client) -> None:
        for _ in client.api.load_image(b"".join(chunks)):
            pass

    docker.call("load image", put)


def image_labels(docker: MinionDocker, image: str) -> dict[str, str] | None:
    """The labels of an image's config ({} for none), or None when the minion lacks it."""
    try:
        found = docker.call(f"inspect image {image}", lambda c: c.api.inspect_image(image))
    except DockerNotFound:
        return None
    return dict((found.get("Config") or {}).get("Labels") or {})


def import_image(docker: MinionDocker, rootfs_tar: bytes, image: str,
                 changes: Sequence[str] = ()) -> str:
    """`docker import` of a root filesystem tar as `repo:tag`, with Dockerfile instructions
    (`CMD [...]`, `ENV K=V`, `LABEL`, ...) applied to its config. Returns the new image id.

    Raises DockerAPIError when dockerd refuses the tar or a change (also when it says so inside
    its 200 answer), MinionUnreachable. dockerd refuses a bad change before reading the tar and
    closes the connection: with a tar of megabytes that shows as MinionUnreachable, so callers
    check their changes first (bosun.imagebuild does).
    """
    repository, tag = _split_reference(image)
    operation = f"import {image}"

    def put(client) -> str:
        return client.api.import_image_from_data(rootfs_tar, repository=repository, tag=tag,
                                                 changes=list(changes) or None)

    answer = docker.call(operation, put)
    image_id = ""
    for line in answer.splitlines():
        message = json.loads(line) if line.strip() else {}
        if message.get("error"):
            raise DockerAPIError(docker.conn.address.name, operation, None, message["error"])
        status = str(message.get("status", ""))
        image_id = status if status.startswith("sha256:") else image_id
    if not image_id:
        raise DockerAPIError(docker.conn.address.name, operation, None,
                             f"no image id in dockerd's answer: {answer[:200]!r}")
    return image_id


def _split_reference(image: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag); a registry's port (`host:5000/repo`) is not a tag."""
    if ":" in image.rsplit("/", 1)[-1]:
        repository, _, tag = image.rpartition(":")
        return repository, tag
    return image, "latest"


class EventStream:
    """Docker's event stream for Bosun's containers; iterate for dicts, close() from any
    thread to end it."""

    def __init__(self, docker: MinionDocker, labels: Mapping[str, str | None]) -> None:
        filters = {"type": ["container"], **label_filters(labels)}
        self._stream = docker.call("events",
                                   lambda c: c.api.events(filters=filters, decode=True))
        self._docker = docker
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self._docker.errors("events"):
            for event in self._stream:
                if self._closed.is_set():
                    return
                yield event

    def close(self) -> None:
        """End the stream now, also when another thread is blocked reading it."""
        self._closed.set()
        # docker-py cannot cancel a stream over SSH ("Cancellable streams not supported"):
        # closing the dial-stdio channel under the response wakes the reader with EOF.
        raw = getattr(self._stream._response.raw, "_fp", None)
        channel = getattr(getattr(raw, "fp", None), "channel", None)
        if channel is not None:
            channel.close()
        else:
            self._stream.close()


def logs(docker: MinionDocker, container_id: str, *, follow: bool, tail: int | None,
         timestamps: bool = False) -> Iterator[bytes]:
    """A container's output (stdout and stderr), streamed when follow is set."""
    operation = f"logs {container_id[:12]}"
    return _translated(docker, operation, docker.call(
        operation,
        lambda c: c.api.logs(container_id, stream=True, follow=follow,
                             tail="all" if tail is None else tail, timestamps=timestamps)))
