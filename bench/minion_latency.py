#!/usr/bin/env python3
"""Per-call latency over the kept-open minion connections, on every minion at once.

For each minion of an inventory (in parallel, one thread each): a command over SSH (`true`, one
exec per call), Docker `ping` and the sparse labelled container list (one dial-stdio channel
reused); then whole-fleet rounds of the sparse list, the kubelet's observe step. Prints a table.

    .venv/bin/python bench/minion_latency.py [-i .lab/inventory.ini] [-n 200]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bosun.inventory import load_inventory
from bosun.minion import Fleet, Minion

ROOT = Path(__file__).resolve().parents[1]
OBSERVE_LABELS = {"bosun.io/pod-uid": None}  # what the kubelet will list by


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def measure(m: Minion, n: int) -> dict[str, list[float]]:
    started = time.perf_counter()
    m.connect()
    connect = [time.perf_counter() - started]
    started = time.perf_counter()
    m.docker.ping()  # first call: API version probe + the dial-stdio channel
    first_docker = [time.perf_counter() - started]
    m.run(["true"])  # warm up
    return {
        "ssh connect (once)": connect,
        "docker first call (once)": first_docker,
        "exec `true`": timed(lambda: m.check(["true"]), n),
        "docker ping": timed(m.docker.ping, n),
        "docker sparse list": timed(lambda: m.containers(OBSERVE_LABELS), n),
    }


def row(cells: list[str], widths: list[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)


def print_table(rows: list[list[str]]) -> None:
    header = ["minion", "call", "n", "p50 ms", "p99 ms", "mean ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(row(header, widths))
    print(row(["-" * w for w in widths], widths))
    for r in rows:
        print(row(r, widths))


def stats_row(minion: str, call: str, samples: list[float]) -> list[str]:
    ms = [s * 1000 for s in samples]
    return [minion, call, str(len(ms)), f"{percentile(ms, 50):.1f}", f"{percentile(ms, 99):.1f}",
            f"{statistics.fmean(ms):.1f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-i", "--inventory", default=str(ROOT / ".lab" / "inventory.ini"))
    parser.add_argument("-n", "--calls", type=int, default=200, help="calls per minion and kind")
    parser.add_argument("--workers", type=int, default=16, help="fleet max workers")
    args = parser.parse_args(argv)

    addresses = load_inventory(args.inventory).minions()
    if not addresses:
        print(f"{args.inventory}: no minions", file=sys.stderr)
        return 1
    rows: list[list[str]] = []
    with Fleet(addresses, max_workers=args.workers, timeout=600) as fleet:
        outcomes = fleet.map(lambda m: measure(m, args.calls))
        failed = False
        for name, outcome in outcomes.items():
            if not outcome.ok:
                print(f"{name}: {outcome.error}", file=sys.stderr)
                failed = True
                continue
            rows += [stats_row(name, call, s) for call, s in outcome.result().items()]
        rounds = timed(lambda: fleet.map(lambda m: m.containers(OBSERVE_LABELS)), args.calls)
        rows.append(stats_row(f"all {len(fleet)}", "fleet sparse list round", rounds))
        dials = {m.name: m.docker.dials for m in fleet}
    print_table(rows)
    print(f"\ndial-stdio channels opened per minion: {dials}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
