"""`lab status`: reach every minion of the lab's inventory over SSH, as the controller will.

Goes through the inventory file and bosun.minion (checked host keys, kept-open connections, all
minions in parallel), so a green status means the controller can work with the lab as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bosun.inventory import load_inventory
from bosun.lab.build import api_healthy, etcd_healthy
from bosun.lab.spec import LabSpec
from bosun.minion import Fleet, Minion, MinionFacts

RTT_SAMPLES = 5


@dataclass(frozen=True)
class MinionReport:
    facts: MinionFacts
    ssh_rtt: float  # median seconds of one command over the kept-open connection
    docker_rtt: float  # median seconds of one Docker API call over the same connection
    containers: int


def _median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def probe(minion: Minion) -> MinionReport:
    """Facts and round-trip times of one minion. Raises what the connection raises."""
    facts = minion.facts()  # connects, so the timings below are of the kept-open connection
    ssh = [_timed(lambda: minion.check(["true"])) for _ in range(RTT_SAMPLES)]
    docker = [_timed(minion.docker.ping) for _ in range(RTT_SAMPLES)]
    return MinionReport(facts, _median(ssh), _median(docker), len(minion.containers()))


def _row(name: str, address: str, report: MinionReport) -> list[str]:
    facts = report.facts
    return [
        name, address, facts.hostname, str(facts.cpus), f"{facts.memory_bytes / 2**30:.1f}Gi",
        facts.kernel, facts.os_name, facts.docker_version, facts.machine_id[:12],
        facts.boot_id[:8], str(report.containers), f"{report.ssh_rtt * 1000:.1f}ms",
        f"{report.docker_rtt * 1000:.1f}ms",
    ]


HEADER = ["NAME", "ADDRESS", "HOSTNAME", "CPUS", "MEMORY", "KERNEL", "OS", "DOCKER",
          "MACHINE-ID", "BOOT-ID", "CONTAINERS", "SSH-RTT", "DOCKER-RTT"]


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def show(spec: LabSpec) -> int:
    """Print every minion's facts; 0 when all answered and etcd is healthy, else 1."""
    inventory = load_inventory(spec.inventory_path)
    addresses = inventory.minions()
    rows, failures = [HEADER], []
    with Fleet(addresses, timeout=20) as fleet:
        outcomes = fleet.map(probe)
    for address in addresses:
        outcome = outcomes[address.name]
        if outcome.ok:
            rows.append(_row(address.name, f"{address.host}:{address.port}", outcome.value))
        else:
            failures.append(f"{address.name}: {outcome.error}")
    print(f"lab {spec.name}: inventory {spec.inventory_path}")
    print(format_table(rows))
    etcd = "healthy" if etcd_healthy(spec) else "NOT ANSWERING"
    api = "healthy" if api_healthy(spec) else "NOT ANSWERING"
    print(f"etcd {spec.etcd_client_url}: {etcd}")
    print(f"API {spec.api_url}: {api} (kubectl: export KUBECONFIG={spec.kubeconfig})")
    for failure in failures:
        print(f"unreachable: {failure}")
    return 0 if not failures and etcd == api == "healthy" else 1
