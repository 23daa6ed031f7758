"""Time `lab up` and `lab down` of a fresh lab (its own index and folder) several times.

    .venv/bin/python bench/lab_cycle.py [--minions 3] [--rounds 3]
Prints a table of seconds per round; uses lab index 3 so it never touches your lab.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = "3"


def timed(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "orchestrator.py"), "lab", *args], check=True,
                   capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minions", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ups, downs = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            state = str(Path(folder) / "lab")
            ups.append(timed("up", "--minions", str(args.minions), "--index", INDEX,
                             "--state-dir", state))
            downs.append(timed("down", "--state-dir", state))
    print(f"{'step':<10} {'minions':>7} {'rounds':>6} {'median s':>9} {'max s':>7}")
    for step, samples in (("lab up", ups), ("lab down", downs)):
        print(f"{step:<10} {args.minions:>7} {len(samples):>6} {statistics.median(samples):>9.2f}"
              f" {max(samples):>7.2f}")


if __name__ == "__main__":
    main()
