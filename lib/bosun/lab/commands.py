"""`orchestrator.py lab up|down|status`: argument handling and output for the lab."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bosun.bootstrap import ROOT
from bosun.lab import build, teardown
from bosun.lab.spec import LabSpec
from bosun.lab.system import LabError

DEFAULT_STATE_DIR = ROOT / ".lab"


def state_dir(args: argparse.Namespace) -> Path:
    chosen = args.state_dir or os.environ.get("BOSUN_LAB_DIR") or DEFAULT_STATE_DIR
    return Path(chosen).resolve()


def run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise LabError("the lab makes namespaces, links and mounts: run it as root")
    folder = state_dir(args)
    if args.lab_command == "up":
        missing = build.missing_tools()
        if missing:
            raise LabError(f"missing {', '.join(missing)}: run ./orchestrator.py setup first")
        started = time.monotonic()
        build.up(LabSpec(folder, minions=args.minions, index=args.index))
        print(f"took {time.monotonic() - started:.1f} s")
        return 0
    spec = LabSpec.load(folder)
    if spec is None:
        print(f"no lab in {folder}")
        return 0 if args.lab_command == "down" else 1
    if args.lab_command == "down":
        teardown.down(spec)
        return 0
    from bosun.lab import status

    return status.show(spec)
