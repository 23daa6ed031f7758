"""What Docker must create for a pod: its infra container and each app container, as plain data.

Pure: `infra_create` and `container_create` turn a pod (a Kubernetes v1 dict, defaults applied)
into a `ContainerCreate` that the executor maps onto docker-py's `create_container` and
`create_host_config`. Manifest values travel only as argv lists, env entries and labels, never
through a shell. `spec_hash` tells the plan when a container's definition changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from bosun.errors import PermanentError
from bosun.kubelet.model import (
    INFRA,
    LABEL_ATTEMPT,
    LABEL_BACKOFF,
    LABEL_CONTAINER,
    LABEL_GRACE,
    LABEL_HASH,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
)
from bosun.objects.quantity import to_bytes, to_millicores

INFRA_IMAGE = "bosun/busybox:1"
# Sleeps until told to stop; SIGTERM ends it at once (a shell as PID 1 ignores it otherwise).
INFRA_COMMAND = ("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done")
PODS_DIR = "/var/lib/bosun/pods"
DEFAULT_GRACE = 30
MASTER_SERVICE = ("default", "kubernetes")  # its variables reach every pod, as in Kubernetes

# cgroup CPU shares and quota bounds the kubelet uses (Docker refuses less than 0.01 CPU).
MIN_SHARES, MAX_SHARES, MIN_MILLICORES = 2, 262144, 10


class SpecError(PermanentError):
    """The pod asks for something Docker cannot be given as is (validation lets it through)."""


@dataclass(frozen=True)
class ContainerCreate:
    """One `docker create`, in docker-py's terms (`exposed_ports` as docker-py's `ports`)."""

    name: str
    image: str
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=list)  # "NAME=value"
    labels: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    hostname: str | None = None
    network_mode: str | None = None  # "bridge" / "host" (infra), "container:<infra>" (apps)
    ipc_mode: str | None = None
    binds: list[str] = field(default_factory=list)  # "source:target" or "source:target:ro"
    tmpfs: dict[str, str] = field(default_factory=dict)  # target -> mount options
    port_bindings: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    exposed_ports: list[tuple[int, str]] = field(default_factory=list)  # (80, "tcp")
    mem_limit: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    stop_timeout: int = DEFAULT_GRACE


# -- names, paths, hashes -------------------------------------------------------------------------

def docker_name(pod: Mapping, container: str, attempt: int) -> str:
    """`bosun_{container}_{pod}_{namespace}_{uid[:8]}_{attempt}`: unique per attempt."""
    meta = pod["metadata"]
    return (f"bosun_{container}_{meta['name']}_{meta.get('namespace') or 'default'}_"
            f"{meta['uid'][:8]}_{attempt}")


def pod_dir(pod_uid: str) -> str:
    """Where the pod's files (emptyDir volumes) live on the minion."""
    return f"{PODS_DIR}/{pod_uid}"


def volume_dir(pod_uid: str, volume: str) -> str:
    return f"{pod_dir(pod_uid)}/volumes/{volume}"


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def container_spec(pod: Mapping, container_name: str) -> dict:
    """The named entry of `spec.containers`. Raises SpecError when there is none."""
    for container in pod["spec"].get("containers") or []:
        if container.get("name") == container_name:
            return container
    raise SpecError(f"pod {pod['metadata']['name']} has no container {container_name!r}")


def spec_hash(pod: Mapping, container_name: str) -> str:
    """A short, stable hash of the container's spec: when it changes, the container restarts.

    Only the container's own entry counts (canonical JSON), so a new image for one container via
    `kubectl apply` restarts that container alone. Raises SpecError for an unknown container.
    """
    return _digest(container_spec(pod, container_name))


def infra_hash(pod: Mapping) -> str:
    """Hash of what the infra container is made of (network mode, hostname, published ports)."""
    spec = pod["spec"]
    return _digest({"hostNetwork": spec.get("hostNetwork") is True, "hostname": _hostname(pod),
                    "ports": sorted(_port_bindings(spec).items())})


def _grace(pod: Mapping) -> int:
    grace = pod["spec"].get("terminationGracePeriodSeconds")
    return DEFAULT_GRACE if grace is None else max(0, int(grace))


def _labels(pod: Mapping, container: str, hash_: str, attempt: int) -> dict[str, str]:
    meta = pod["metadata"]
    return {LABEL_POD_UID: meta["uid"], LABEL_POD_NAME: meta["name"],
            LABEL_POD_NAMESPACE: meta.get("namespace") or "default", LABEL_CONTAINER: container,
            LABEL_HASH: hash_, LABEL_ATTEMPT: str(attempt), LABEL_GRACE: str(_grace(pod))}


# -- the infra container --------------------------------------------------------------------------

def _hostname(pod: Mapping) -> str | None:
    """The pod's hostname as Kubernetes gives it: spec.hostname or the pod name, at most 63
    characters (none with hostNetwork: the minion's own)."""
    if pod["spec"].get("hostNetwork") is True:
        return None
    name = pod["spec"].get("hostname") or pod["metadata"]["name"]
    return name[:63].rstrip("-.")


def _port_bindings(spec: Mapping) -> dict[str, list[tuple[str, int]]]:
    """Every container's hostPort, published on the infra container."""
    bindings: dict[str, list[tuple[str, int]]] = {}
    if spec.get("hostNetwork") is True:
        return bindings  # the containers listen on the minion's ports themselves
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            if not port.get("hostPort"):
                continue
            key = f"{int(port['containerPort'])}/{(port.get('protocol') or 'TCP').lower()}"
            bindings.setdefault(key, []).append((port.get("hostIP") or "", int(port["hostPort"])))
    return bindings


def infra_create(pod: Mapping, image: str = INFRA_IMAGE, *, attempt: int = 0) -> ContainerCreate:
    """The pod's infra container: it holds the network namespace (an IP on the minion's docker0
    subnet, or the minion's network with hostNetwork), the hostname and the published hostPorts.
    """
    bindings = _port_bindings(pod["spec"])
    host_network = pod["spec"].get("hostNetwork") is True
    return ContainerCreate(
        name=docker_name(pod, INFRA, attempt),
        image=image,
        entrypoint=list(INFRA_COMMAND),
        cmd=None,
        labels=_labels(pod, INFRA, infra_hash(pod), attempt),
        hostname=_hostname(pod),
        network_mode="host" if host_network else "bridge",
        ipc_mode="shareable",  # the app containers join it
        port_bindings=bindings,
        exposed_ports=[(int(port), proto) for port, proto in
                       (key.split("/") for key in bindings)],
        stop_timeout=_grace(pod),
    )


# -- an app container -----------------------------------------------------------------------------

def container_create(pod: Mapping, container_name: str, attempt: int, infra_id: str,
                     services: Iterable[Mapping], node_name: str, *, pod_ip: str = "",
                     host_ip: str = "", backoff: float | None = None,
                     allocatable: Mapping[str, object] | None = None) -> ContainerCreate:
    """One app container of the pod, joined to the infra container `infra_id` (an id or name).

    `services` may hold services of any namespace: those of the pod's namespace (when
    enableServiceLinks is not false) and default/kubernetes give the v1.0 service variables.
    `pod_ip`/`host_ip` answer `status.podIP`/`status.hostIP` references; `allocatable` (the
    minion's) stands in for missing limits in `resourceFieldRef`, as in Kubernetes. `backoff`
    (StartContainer.backoff) goes to the LABEL_BACKOFF label; without it the plan derives the
    backoff from the attempt. Raises SpecError for what Docker cannot be given.
    """
    container = container_spec(pod, container_name)
    downward = _Downward(pod, node_name, pod_ip, host_ip, allocatable or {})
    env = environment(container, service_environment(pod, services), downward)

    def lookup(name: str) -> str | None:
        return env.get(name)

    command, args = container.get("command"), container.get("args")
    entrypoint = [expand(part, lookup) for part in command] if command else None
    cmd = [expand(part, lookup) for part in args] if args else None
    if entrypoint is not None and cmd is None:
        cmd = []  # the image's CMD must not be appended to a command given in the pod
    labels = _labels(pod, container_name, spec_hash(pod, container_name), attempt)
    if backoff is not None:
        labels[LABEL_BACKOFF] = f"{backoff:g}"
    binds, tmpfs = _mounts(pod, container)
    return ContainerCreate(
        name=docker_name(pod, container_name, attempt),
        image=container["image"],
        entrypoint=entrypoint,
        cmd=cmd,
        env=[f"{name}={value}" for name, value in env.items()],
        labels=labels,
        working_dir=container.get("workingDir") or None,
        network_mode=f"container:{infra_id}",
        ipc_mode=f"container:{infra_id}",
        binds=binds,
        tmpfs=tmpfs,
        stop_timeout=_grace(pod),
        **_resources(container),
    )


def _mounts(pod: Mapping, container: Mapping) -> tuple[list[str], dict[str, str]]:
    """Binds for emptyDir (a folder under the pod's dir) and hostPath volumes; a tmpfs for an
    emptyDir of medium Memory. Raises SpecError for an unknown volume or an unusable path."""
    volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or []}
    uid = pod["metadata"]["uid"]
    binds: list[str] = []
    tmpfs: dict[str, str] = {}
    for mount in container.get("volumeMounts") or []:
        name, target = mount.get("name"), mount.get("mountPath") or ""
        volume = volumes.get(name)
        if volume is None:
            raise SpecError(f"volume {name!r} of container {container['name']} is not defined")
        read_only = mount.get("readOnly") is True
        empty_dir = volume.get("emptyDir")
        if isinstance(empty_dir, dict) and empty_dir.get("medium") == "Memory":
            tmpfs[_checked(target)] = _tmpfs_options(empty_dir, read_only)
            continue
        if isinstance(empty_dir, dict):
            source = volume_dir(uid, name)
        elif isinstance(volume.get("hostPath"), dict):
            source = volume["hostPath"].get("path") or ""
        else:
            raise SpecError(f"volume {name!r}: Bosun runs only emptyDir and hostPath volumes")
        source = _sub_path(source, mount.get("subPath") or "")
        binds.append(f"{_checked(source)}:{_checked(target)}" + (":ro" if read_only else ""))
    return binds, tmpfs


def _checked(path: str) -> str:
    if not posixpath.isabs(path) or ":" in path:
        raise SpecError(f"cannot mount {path!r}: paths must be absolute and without ':'")
    return path


def _sub_path(source: str, sub_path: str) -> str:
    if not sub_path:
        return source
    if posixpath.isabs(sub_path) or ".." in sub_path.split("/"):
        raise SpecError(f"subPath {sub_path!r} must be relative and stay inside its volume")
    return posixpath.join(source, sub_path)


def _tmpfs_options(empty_dir: Mapping, read_only: bool) -> str:
    # Kubernetes' memory emptyDir allows executables, unlike Docker's default tmpfs.
    options = ["ro" if read_only else "rw", "exec"]
    if empty_dir.get("sizeLimit") is not None:
        options.append(f"size={to_bytes(empty_dir['sizeLimit'])}")
    return ",".join(options)


def _resources(container: Mapping) -> dict[str, int | None]:
    """Memory limit in bytes, CPU limit as nano-CPUs, CPU request as cgroup shares (a container
    without a CPU request gets the minimum, 2, as the kubelet gives it)."""
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    memory = to_bytes(limits["memory"]) if limits.get("memory") is not None else None
    nano_cpus = None
    if limits.get("cpu") is not None and to_millicores(limits["cpu"]) > 0:
        nano_cpus = max(MIN_MILLICORES, to_millicores(limits["cpu"])) * 1_000_000
    request = requests.get("cpu", limits.get("cpu"))
    millicores = to_millicores(request) if request is not None else 0
    shares = min(MAX_SHARES, max(MIN_SHARES, millicores * 1024 // 1000))
    return {"mem_limit": memory, "nano_cpus": nano_cpus, "cpu_shares": shares}


# -- environment ----------------------------------------------------------------------------------

def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes' `$(VAR)` expansion: a known VAR is replaced, `$$` is a literal `$`, anything
    else (an unknown `$(X)`, an unclosed `$(`, a lone `$`) stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(" and (close := text.find(")", i + 2)) != -1:
            name = text[i + 2:close]
            value = lookup(name)
            out.append(f"$({name})" if value is None else value)
            i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def env_name(name: str) -> str:
    """A service name as an environment variable prefix: `redis-master` -> `REDIS_MASTER`."""
    return name.replace("-", "_").upper()


def _join_host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def service_variables(service: Mapping) -> list[tuple[str, str]]:
    """The v1.0 variables of one service: `{NAME}_SERVICE_HOST/PORT[_{PORTNAME}]` and the Docker
    links style `{NAME}_PORT[_{port}_{PROTO}[_PROTO|_PORT|_ADDR]]`; none without a cluster IP."""
    spec = service.get("spec") or {}
    ip, ports = spec.get("clusterIP") or "", spec.get("ports") or []
    if ip in ("", "None") or not ports:
        return []
    prefix = env_name(service["metadata"]["name"])
    found = [(f"{prefix}_SERVICE_HOST", ip), (f"{prefix}_SERVICE_PORT", str(ports[0]["port"]))]
    found += [(f"{prefix}_SERVICE_PORT_{env_name(p['name'])}", str(p["port"]))
              for p in ports if p.get("name")]
    for index, port in enumerate(ports):
        proto = (port.get("protocol") or "TCP").lower()
        url = f"{proto}://{_join_host_port(ip, int(port['port']))}"
        if index == 0:
            found.append((f"{prefix}_PORT", url))  # Docker links name the first port so
        at = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
        found += [(at, url), (f"{at}_PROTO", proto), (f"{at}_PORT", str(port["port"])),
                  (f"{at}_ADDR", ip)]
    return found


def service_environment(pod: Mapping, services: Iterable[Mapping]) -> dict[str, str]:
    """The service variables a container of `pod` gets, ordered by service name.

    Services of the pod's namespace (unless `enableServiceLinks` is false) and the master service
    default/kubernetes (always); a namespace's own service shadows a master one of the same name.
    """
    namespace = pod["metadata"].get("namespace") or "default"
    links = pod["spec"].get("enableServiceLinks") is not False
    chosen: dict[str, Mapping] = {}
    for service in services:
        meta = service.get("metadata") or {}
        name, where = meta.get("name"), meta.get("namespace") or "default"
        if (where, name) == MASTER_SERVICE:
            chosen.setdefault(name, service)
        elif where == namespace and links:
            chosen[name] = service
    env: dict[str, str] = {}
    for name in sorted(chosen):
        env.update(service_variables(chosen[name]))
    return env


@dataclass(frozen=True)
class _Downward:
    """What `valueFrom` references can see of the pod and where it runs."""

    pod: Mapping
    node_name: str
    pod_ip: str
    host_ip: str
    allocatable: Mapping[str, object]


def environment(container: Mapping, services: Mapping[str, str],
                downward: _Downward) -> dict[str, str]:
    """The container's variables in declaration order (a repeated name keeps its last value),
    then the service variables it does not define itself. A `value` may refer to variables
    defined before it and to service variables; `valueFrom` values are taken as they are."""
    env: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        return env[name] if name in env else services.get(name)

    for var in container.get("env") or []:
        source = var.get("valueFrom")
        if source:
            env[var["name"]] = _value_from(source, container, downward)
        else:
            env[var["name"]] = expand(var.get("value") or "", lookup)
    for name, value in services.items():
        env.setdefault(name, value)
    return env


def _value_from(source: Mapping, container: Mapping, downward: _Downward) -> str:
    if source.get("fieldRef"):
        return _field_value(source["fieldRef"].get("fieldPath") or "", downward)
    if source.get("resourceFieldRef"):
        return _resource_value(source["resourceFieldRef"], container, downward)
    raise SpecError(f"Bosun cannot take environment variables from {sorted(source)}")


def _field_value(path: str, downward: _Downward) -> str:
    meta, spec = downward.pod["metadata"], downward.pod["spec"]
    for prefix, values in (("metadata.labels", meta.get("labels")),
                           ("metadata.annotations", meta.get("annotations"))):
        if path.startswith(f"{prefix}['") and path.endswith("']"):
            return (values or {}).get(path[len(prefix) + 2:-2], "")
    simple = {
        "metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"), "spec.nodeName": downward.node_name,
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": downward.host_ip, "status.hostIPs": downward.host_ip,
        "status.podIP": downward.pod_ip, "status.podIPs": downward.pod_ip,
    }
    if path not in simple:
        raise SpecError(f"unsupported fieldRef fieldPath {path!r}")
    return simple[path] or ""


def _resource_value(ref: Mapping, container: Mapping, downward: _Downward) -> str:
    """A limit or request, divided by the divisor and rounded up; a missing limit is the
    minion's allocatable amount, a missing request 0."""
    target = container
    if ref.get("containerName") and ref["containerName"] != container.get("name"):
        target = container_spec(downward.pod, ref["containerName"])
    kind, _, resource = (ref.get("resource") or "").partition(".")
    if kind not in ("limits", "requests") or not resource:
        raise SpecError(f"unsupported resourceFieldRef resource {ref.get('resource')!r}")
    amounts = (target.get("resources") or {}).get(kind) or {}
    amount = amounts.get(resource)
    if amount is None and kind == "limits":
        amount = downward.allocatable.get(resource)
    divisor = ref.get("divisor")
    if resource == "cpu":
        whole, unit = to_millicores(amount or 0), to_millicores(divisor or 0) or 1000
    else:
        whole, unit = to_bytes(amount or 0), to_bytes(divisor or 0) or 1
    return str(math.ceil(Fraction(whole, unit)))
