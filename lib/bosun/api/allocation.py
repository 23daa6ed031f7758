"""Cluster IPs and node ports for services, each held by a reservation key in etcd.

A service's clusterIP (and every nodePort) is reserved with a create-only write of
`/registry/ranges/serviceips/<ip>` (`.../nodeports/<port>`) before the service is stored, so two
services can never get the same one, even from two API servers. Reservations made for a write
that then fails are given back; `repair` frees any left by a server that died in between.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
from collections.abc import Iterator

from bosun.objects.fielderrors import invalid
from bosun.objects.status import Invalid, ServiceUnavailable
from bosun.store import Store
from bosun.store import errors as store_errors

IP_PREFIX = "/registry/ranges/serviceips/"
PORT_PREFIX = "/registry/ranges/nodeports/"
ATTEMPTS = 20


def wanted_ports(service: dict) -> list[int]:
    return [p["nodePort"] for p in service.get("spec", {}).get("ports", []) if p.get("nodePort")]


def owner_of(service: dict) -> str:
    meta = service["metadata"]
    return f"{meta.get('namespace')}/{meta['name']}"


class Allocator:
    def __init__(self, store: Store, service_cidr: str, node_ports: tuple[int, int]) -> None:
        self.store = store
        self.network = ipaddress.ip_network(service_cidr)
        self.node_ports = node_ports

    # -- what the Api calls --------------------------------------------------------------------
    @contextlib.contextmanager
    def for_create(self, resource: str, obj: dict, dry_run: bool) -> Iterator[None]:
        """Fill and reserve a new service's clusterIP and node ports around its store write."""
        if resource != "services" or dry_run:
            yield
            return
        made: list[str] = []
        try:
            self._assign_cluster_ip(obj, made)
            self._assign_node_ports(obj, set(), made)
            yield
        except BaseException:
            self._release_keys(made)
            raise

    @contextlib.contextmanager
    def for_update(self, resource: str, old: dict, new: dict, dry_run: bool) -> Iterator[None]:
        """Reserve node ports an update adds; free the ones it drops once it is stored."""
        if resource != "services" or dry_run:
            yield
            return
        kept = set(wanted_ports(old))
        made: list[str] = []
        try:
            self._assign_node_ports(new, kept, made)
            yield
        except BaseException:
            self._release_keys(made)
            raise
        dropped = kept - set(wanted_ports(new))
        self._release_keys([f"{PORT_PREFIX}{p}" for p in dropped])

    def release(self, resource: str, deleted: dict) -> None:
        if resource != "services":
            return
        keys = [f"{PORT_PREFIX}{p}" for p in wanted_ports(deleted)]
        ip = deleted.get("spec", {}).get("clusterIP")
        if ip and ip != "None":
            keys.append(f"{IP_PREFIX}{ip}")
        self._release_keys(keys)

    def repair(self, services: list[dict]) -> int:
        """Free reservations no stored service holds. Returns how many were freed."""
        held = set()
        for service in services:
            ip = service.get("spec", {}).get("clusterIP")
            if ip and ip != "None":
                held.add(f"{IP_PREFIX}{ip}")
            held |= {f"{PORT_PREFIX}{p}" for p in wanted_ports(service)}
        freed = 0
        for prefix in (IP_PREFIX, PORT_PREFIX):
            reservations, _ = self.store.list(prefix)
            for reservation in reservations:
                key = prefix + reservation["metadata"]["name"]
                if key not in held:
                    self._release_keys([key])
                    freed += 1
        return freed

    # -- cluster IPs ---------------------------------------------------------------------------
    def _assign_cluster_ip(self, service: dict, made: list[str]) -> None:
        spec = service.setdefault("spec", {})
        asked = spec.get("clusterIP") or ""
        if asked == "None":
            spec["clusterIPs"] = ["None"]
            return
        if asked:
            self._reserve_ip(service, asked, made, asked=True)
        else:
            spec["clusterIP"] = self._free_ip(service, made)
        spec["clusterIPs"] = [spec["clusterIP"]]

    def _reserve_ip(self, service: dict, ip: str, made: list[str], asked: bool) -> bool:
        if asked and ipaddress.ip_address(ip) not in self.network:
            raise Invalid("Service", service["metadata"]["name"], [invalid(
                "spec.clusterIPs[0]", ip, f"provided IP is not in the valid range. The range of "
                f"valid IPs is {self.network}")])
        key = f"{IP_PREFIX}{ip}"
        if self._reserve(key, owner_of(service)):
            made.append(key)
            return True
        if asked:
            raise Invalid("Service", service["metadata"]["name"], [invalid(
                "spec.clusterIPs[0]", ip, "provided IP is already allocated")])
        return False

    def _free_ip(self, service: dict, made: list[str]) -> str:
        hosts = self.network.num_addresses - 2
        taken = {r["metadata"]["name"] for r in self.store.list(IP_PREFIX)[0]}
        if len(taken) >= hosts - 1:
            raise ServiceUnavailable(f"no free cluster IP left in {self.network}")
        for _ in range(ATTEMPTS):
            # .1 is left out, as Kubernetes keeps it for the `kubernetes` service.
            ip = str(self.network.network_address + random.randint(2, hosts))
            if ip not in taken and self._reserve_ip(service, ip, made, asked=False):
                return ip
            taken.add(ip)
        raise ServiceUnavailable("could not allocate a cluster IP: too many concurrent tries")

    # -- node ports ----------------------------------------------------------------------------
    def _assign_node_ports(self, service: dict, kept: set[int], made: list[str]) -> None:
        spec = service.get("spec", {})
        if spec.get("type") != "NodePort":
            return
        for index, port in enumerate(spec.get("ports", [])):
            asked = port.get("nodePort")
            if asked and asked in kept:
                continue
            if asked:
                self._reserve_port(service, index, asked, made, asked=True)
            else:
                port["nodePort"] = self._free_port(service, index, made)

    def _reserve_port(self, service: dict, index: int, port: int, made: list[str],
                      asked: bool) -> bool:
        low, high = self.node_ports
        field = f"spec.ports[{index}].nodePort"
        if asked and not low <= port <= high:
            raise Invalid("Service", service["metadata"]["name"], [invalid(
                field, port, f"provided port is not in the valid range. The range of valid "
                f"ports is {low}-{high}")])
        key = f"{PORT_PREFIX}{port}"
        if self._reserve(key, owner_of(service)):
            made.append(key)
            return True
        if asked:
            raise Invalid("Service", service["metadata"]["name"], [invalid(
                field, port, "provided port is already allocated")])
        return False

    def _free_port(self, service: dict, index: int, made: list[str]) -> int:
        low, high = self.node_ports
        taken = {int(r["metadata"]["name"]) for r in self.store.list(PORT_PREFIX)[0]}
        if len(taken) > high - low:
            raise ServiceUnavailable(f"no free node port left in {low}-{high}")
        for _ in range(ATTEMPTS):
            port = random.randint(low, high)
            if port not in taken and self._reserve_port(service, index, port, made, False):
                return port
            taken.add(port)
        raise ServiceUnavailable("could not allocate a node port: too many concurrent tries")

    # -- reservation keys ----------------------------------------------------------------------
    def _reserve(self, key: str, owner: str) -> bool:
        name = key.rsplit("/", 1)[1]
        try:
            self.store.create(key, {"metadata": {"name": name}, "owner": owner})
        except store_errors.AlreadyExists:
            return False
        except store_errors.StoreUnavailable as error:
            raise ServiceUnavailable(f"etcd is not answering: {error}") from None
        return True

    def _release_keys(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.store.delete(key)
            except store_errors.NotFound:
                pass
