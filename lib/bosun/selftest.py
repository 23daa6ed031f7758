"""`orchestrator.py test`: lint, import contracts, then the whole pytest suite (unit + lab)."""

from __future__ import annotations

import subprocess
import sys

from bosun.bootstrap import ROOT, VENV


def main(pytest_args: list[str]) -> int:
    steps = [
        [str(VENV / "bin" / "ruff"), "check", "."],
        [str(VENV / "bin" / "lint-imports")],
        [sys.executable, "-m", "pytest", *pytest_args],
    ]
    for step in steps:
        print("+", " ".join(step[-3:] if step[0] == sys.executable else step), flush=True)
        done = subprocess.run(step, cwd=ROOT, check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
