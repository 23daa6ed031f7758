"""A recording fake of `bosun.minion.Minion` for benchmarks: no SSH, no Docker, no host.

It answers the kubelet's observation (the container list, plus images and inspect) with running
containers that match the pods it was given, labelled as Bosun labels its own, so a pass over
them finds nothing to do. For the service proxy it plays the minion's side: it keeps haproxy.cfg
and Bosun's nat chain as the proxy installed them and answers the proxy's observe script with
them. Every call is counted by kind (`calls`), so a benchmark can say what a pass asked of a
minion. Docker-level calls (create, start, stop) are not offered: the kubelet's executor must not
run against a fake, and a pass that tries fails loudly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence

from bosun.inventory.addresses import MinionAddress
from bosun.kubelet.proxyworker import INSTALL_SCRIPT, OBSERVE_SCRIPT, SEPARATOR, WRITE_SCRIPT
from bosun.kubelet.spec import container_create, infra_create
from bosun.minion import CommandResult, DockerNotFound, MinionFacts, RemoteCommandError
from bosun.proxy.haproxy import HAPROXY_CFG, config_servers, runtime_argv
from bosun.proxy.iptables import restore_argv

IPTABLES_NAT = ("iptables", "-w", "-t", "nat")
STARTED = "2026-01-01T00:00:00.000000000Z"
ZERO_TIME = "0001-01-01T00:00:00Z"


def address(index: int) -> MinionAddress:
    """Minion `index` (1-based) of a simulated fleet: 10.0.x.y, pod subnet 10.x.y.0/24; an
    inventory entry like any other (nothing will connect to it)."""
    high, low = divmod(index, 256)
    return MinionAddress(f"minion-{index}", f"10.0.{high}.{low}",
                         pod_cidr=f"10.{100 + high}.{low}.0/24")


def facts(name: str) -> MinionFacts:
    return MinionFacts(hostname=name, cpus=8, memory_bytes=32 << 30, kernel="6.1.0-fake",
                       os_name="Debian GNU/Linux 12 (bookworm)", architecture="x86_64",
                       machine_id=_id(name)[:32],
                       boot_id="fake-boot", docker_version="20.10.24",
                       docker_api_version="1.41")


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeMinion:
    """One simulated minion. Thread-safe enough for one worker (the kubelet's own rule)."""

    def __init__(self, where: MinionAddress) -> None:
        self.address = where
        self.name = where.name
        self.label = f"{where.name} (fake)"
        self.calls: Counter[str] = Counter()
        self._entries: list[dict] = []
        self._details: dict[str, dict] = {}
        self._images = frozenset({"sha256:" + _id("bosun/busybox:1")})
        self._hosts = ipaddress.ip_network(where.pod_cidr).hosts()
        next(self._hosts)  # .1 is docker0's
        self._ips: dict[str, str] = {}  # pod uid -> its IP, kept across run_pods calls
        self.files: dict[str, bytes] = {}
        self.nat_rules = ""  # what the last iptables-restore loaded into Bosun's chain
        self.hooks: set[tuple[str, ...]] = set()
        self.haproxy_pids: list[int] = []
        self.servers: dict[str, dict[str, bool]] = {}  # the running haproxy's: name -> serving

    # -- the world this minion runs ----------------------------------------------------------
    def run_pods(self, pods: Sequence[Mapping]) -> None:
        """From now on, hold a running infra and app containers for each of `pods`, exactly
        as the kubelet would have made them (names, labels, hashes)."""
        self._entries, self._details = [], {}
        for pod in pods:
            uid = pod["metadata"]["uid"]
            ip = self._ips.setdefault(uid, str(next(self._hosts)))
            infra = infra_create(pod)
            self._add(infra.name, infra.labels, infra.image, ip)
            for container in pod["spec"]["containers"]:
                made = container_create(pod, container["name"], 0, infra.name, [], self.name)
                self._add(made.name, made.labels, made.image, "")
        self._images = frozenset({*self._images, *(e["Image"] for e in self._entries)})

    def _add(self, name: str, labels: Mapping[str, str], image: str, ip: str) -> None:
        container_id = _id(name)
        networks = {"bridge": {"IPAddress": ip}} if ip else {}
        self._entries.append({
            "Id": container_id, "Names": [f"/{name}"], "Labels": dict(labels),
            "State": "running", "Image": image, "ImageID": "sha256:" + _id(image),
            "Created": 1767225600, "NetworkSettings": {"Networks": networks}})
        self._details[container_id] = {"State": {
            "Running": True, "StartedAt": STARTED, "FinishedAt": ZERO_TIME, "ExitCode": 0,
            "OOMKilled": False, "Error": ""}}

    # -- what the kubelet asks (Minion's methods) --------------------------------------------
    def containers(self, labels: Mapping[str, str | None] | None = None) -> list[dict]:
        self.calls["containers"] += 1
        wanted = labels or {}
        return [dict(e) for e in self._entries
                if all(k in e["Labels"] and v in (None, e["Labels"][k])
                       for k, v in wanted.items())]

    def images(self) -> frozenset[str]:
        self.calls["images"] += 1
        return self._images

    def inspect(self, container_id: str) -> dict:
        self.calls["inspect"] += 1
        if container_id not in self._details:
            raise DockerNotFound(self.name, f"inspect {container_id[:12]}", 404,
                                 "no such container")
        return self._details[container_id]

    def facts(self) -> MinionFacts:
        self.calls["facts"] += 1
        return facts(self.name)

    def upload(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.calls["upload"] += 1
        self.files[path] = data

    def read_file(self, path: str) -> bytes | None:
        self.calls["read_file"] += 1
        return self.files.get(path)

    def check(self, argv: Sequence[str], *, stdin: bytes | None = None,
              timeout: float | None = None) -> CommandResult:
        return self.run(argv, stdin=stdin, timeout=timeout).check()

    def run(self, argv: Sequence[str], *, stdin: bytes | None = None,
            timeout: float | None = None) -> CommandResult:
        """The few commands the service proxy runs, played against this minion's state."""
        argv = list(argv)
        self.calls[f"exec {argv[0]}"] += 1
        out, code = b"", 0
        if argv == ["sh", "-c", OBSERVE_SCRIPT]:
            out = self._proxy_observed().encode()
        elif argv[:3] == ["sh", "-c", INSTALL_SCRIPT]:  # stage, start haproxy on it, rename
            self.files[HAPROXY_CFG] = stdin or b""
            self.haproxy_pids = [4242 + len(self.haproxy_pids)]
            self.servers = {listener: dict.fromkeys(servers, True) for listener, servers
                            in config_servers(self.files[HAPROXY_CFG].decode()).items()}
        elif argv[:3] == ["sh", "-c", WRITE_SCRIPT]:
            self.files[HAPROXY_CFG] = stdin or b""
        elif argv == runtime_argv():
            self._runtime((stdin or b"").decode())
        elif argv[:2] == ["mv", "-f"]:
            self.files[argv[3]] = self.files.pop(argv[2])
        elif argv[0] == "haproxy" and "-c" not in argv:
            self.haproxy_pids = [4242 + len(self.haproxy_pids)]
            self.servers = {listener: dict.fromkeys(servers, True) for listener, servers
                            in config_servers(self.files[HAPROXY_CFG].decode()).items()}
        elif argv == restore_argv():
            self.nat_rules = (stdin or b"").decode()
        elif tuple(argv[:4]) == IPTABLES_NAT and argv[4] in ("-C", "-I"):
            rule = ("-A", argv[5], *argv[6 + (argv[4] == "-I"):])
            code = 0 if argv[4] == "-I" or rule in self.hooks else 1
            if argv[4] == "-I":
                self.hooks.add(rule)
        elif argv[0] not in ("mkdir", "haproxy", "iptables-restore", "rm"):
            raise RemoteCommandError(self.name, argv, 127, f"{argv[0]}: not on a fake minion")
        return CommandResult(self.name, tuple(argv), code, out, b"")

    def _proxy_observed(self) -> str:
        chain = [line for line in self.nat_rules.splitlines() if line.startswith((":", "-A "))]
        hooks = [shlex.join(rule) for rule in sorted(self.hooks)]
        saved = "\n".join(["*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", *chain,
                           *hooks, "COMMIT", ""])
        config = self.files.get(HAPROXY_CFG, b"").decode()
        pids = "".join(f"{pid}\n" for pid in self.haproxy_pids)
        listening = ""  # `ss -Htln`: nothing but haproxy listens on a fake minion
        state = "".join(f"1 {listener} 1 {name} {name.split(':')[0]} 2 {0 if up else 1}\n"
                        for listener, servers in sorted(self.servers.items())
                        for name, up in sorted(servers.items()))
        servers = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state\n"
                   f"{state}\n") if self.haproxy_pids else ""
        return (f"{config}{SEPARATOR}\n{saved}{SEPARATOR}\n{pids}{SEPARATOR}\n{listening}"
                f"{SEPARATOR}\n{servers}")

    def _runtime(self, line: str) -> None:
        """haproxy's runtime API, for the server commands the proxy sends."""
        for command in line.strip().split("; "):
            listener, name = command.split()[2].split("/", 1)  # `VERB server LISTENER/NAME ...`
            servers = self.servers.setdefault(listener, {})
            if command.startswith("add server"):
                servers[name] = False
            elif command.startswith("del server"):
                servers.pop(name, None)
            else:  # enable server X / set server X state ready|maint
                servers[name] = command.startswith("enable") or command.endswith("ready")

    # -- the connection ----------------------------------------------------------------------
    def connect(self) -> None:
        self.calls["connect"] += 1

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def docker(self):
        raise AssertionError(f"{self.name}: a no-op pass must not reach Docker itself")
