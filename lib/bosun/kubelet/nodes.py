"""Minions as Node objects: capacity, addresses, nodeInfo and the Ready condition from facts.

Pure: the registrar gives it the inventory entry, the facts read over SSH and the time; the
result is what `kubectl get nodes` / `describe node` show.
"""

from __future__ import annotations

from datetime import datetime

from bosun import __version__
from bosun.objects.meta import format_time

MAX_PODS = 110
KUBELET_VERSION = f"v1.32.0-bosun.{__version__}"
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                 "s390x": "s390x"}


def node_labels(name: str, architecture: str) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": ARCHITECTURES.get(architecture, architecture),
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": ARCHITECTURES.get(architecture, architecture),
    }


def capacity(facts) -> dict[str, str]:
    return {"cpu": str(facts.cpus), "memory": f"{facts.memory_bytes // 1024}Ki",
            "pods": str(MAX_PODS), "ephemeral-storage": "0"}


def node_info(facts) -> dict[str, str]:
    return {
        "machineID": facts.machine_id,
        "systemUUID": facts.machine_id,
        "bootID": facts.boot_id,
        "kernelVersion": facts.kernel,
        "osImage": facts.os_name,
        "containerRuntimeVersion": f"docker://{facts.docker_version}",
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": KUBELET_VERSION,
        "operatingSystem": "linux",
        "architecture": ARCHITECTURES.get(facts.architecture, facts.architecture),
    }


def ready_condition(ready: bool, message: str, now: datetime,
                    previous: dict | None) -> dict:
    """The Ready condition; its lastTransitionTime moves only when its status does."""
    status = "True" if ready else "Unknown"
    moment = format_time(now)
    changed = previous is None or previous.get("status") != status
    return {
        "type": "Ready",
        "status": status,
        "lastHeartbeatTime": moment,
        "lastTransitionTime": moment if changed else previous.get("lastTransitionTime", moment),
        "reason": "KubeletReady" if ready else "NodeStatusUnknown",
        "message": message,
    }


def node_object(address, facts, pod_cidr: str | None) -> dict:
    """A new Node for a minion (spec and metadata; the status comes from `node_status`)."""
    spec: dict = {}
    if pod_cidr:
        spec = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": address.name,
                         "labels": node_labels(address.name, facts.architecture)},
            "spec": spec}


def node_status(address, facts, now: datetime, previous_status: dict | None) -> dict:
    """The status of a minion that answered: capacity, addresses, nodeInfo, Ready=True."""
    conditions = (previous_status or {}).get("conditions") or []
    previous_ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    return {
        "capacity": capacity(facts),
        "allocatable": capacity(facts),
        "addresses": [{"type": "InternalIP", "address": address.host},
                      {"type": "Hostname", "address": facts.hostname}],
        "nodeInfo": node_info(facts),
        "conditions": [ready_condition(True, "Bosun reached the minion over SSH and Docker",
                                       now, previous_ready)],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
    }


def same_but_heartbeat(status: dict, previous: dict) -> bool:
    """True when two Node statuses differ at most in their conditions' lastHeartbeatTime."""
    def without_beats(value: dict) -> dict:
        conditions = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"}
                      for c in value.get("conditions") or []]
        return {**value, "conditions": conditions}
    return without_beats(status) == without_beats(previous)
