"""What the benchmarks share: aligned tables, which commit of lib/ was measured, percentiles,
progress lines on stderr, waiting for a condition, and bringing a lab of their own up and down."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def source_version(root: Path = ROOT) -> str:
    """The commit measured, and whether lib/ differs from it (others' work in progress)."""
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False)
    if head.returncode != 0:
        return "not a git checkout"
    changed = subprocess.run([*git, "status", "--porcelain", "--", "lib", "orchestrator.py"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return head.stdout.strip() + (" + uncommitted changes in lib/" if changed else "")


def machine() -> str:
    """`2 cores, load 6.1` : what else competed for the CPU."""
    return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): p99 of 10 samples is the largest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(samples: list[float]) -> float:
    return percentile(samples, 50)


def wait_until(test: Callable[[], object], timeout: float, what: str,
               interval: float = 0.05) -> object:
    """Poll test() until it returns something true, and return that. Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while not (value := test()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)
    return value


def lab(action: str, spec) -> None:
    """`orchestrator.py lab ACTION` for the lab of `spec` (a bosun.lab.spec.LabSpec)."""
    argv = [sys.executable, str(ROOT / "orchestrator.py"), "lab", action,
            "--state-dir", str(spec.state_dir)]
    if action == "up":
        argv += ["--index", str(spec.index), "--minions", str(spec.minions)]
    subprocess.run(argv, check=True, stdout=sys.stderr, stdin=subprocess.DEVNULL)


def stop_api_server(spec) -> None:
    """SIGTERM the lab's `orchestrator.py serve` (and with it its controllers and kubelet);
    wait for it to go. `lab up` starts it again."""
    from bosun.lab.build import api_program
    from bosun.lab.system import running_pid

    pid = running_pid(spec.api_pid_file, api_program())
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: running_pid(spec.api_pid_file, api_program()) is None, 30,
               "the lab's API server to stop")
