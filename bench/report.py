"""What the benchmarks print: aligned tables, and which commit of lib/ was measured."""

from __future__ import annotations

import os
import subprocess
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
