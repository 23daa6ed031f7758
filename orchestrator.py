#!/usr/bin/env python3
"""Bosun's command line. Thin: parses nothing itself, hands over to lib/bosun.

`setup`, `demo` and `test` work on a machine where nothing is installed yet (standard library
only); every other command runs under the virtual environment that `setup` makes.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from bosun import bootstrap

HERE = os.path.dirname(os.path.abspath(__file__))


def _run_in_venv(*args: str) -> None:
    done = subprocess.run([str(bootstrap.VENV_PYTHON), *args], cwd=HERE, check=False)
    if done.returncode != 0:
        raise SystemExit(done.returncode)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else ""
    if command == "setup":
        bootstrap.setup(with_tests="--with-tests" in argv)
    elif command == "demo" and not bootstrap.in_venv():
        # The main job: everything set up, then (in .venv) the lab up and the example app on it.
        bootstrap.setup()
        bootstrap.reexec_in_venv([__file__, *argv])
    elif command == "test":
        bootstrap.setup(with_tests=True)
        _run_in_venv("-m", "bosun.selftest", *argv[1:])
    elif not bootstrap.in_venv():
        bootstrap.reexec_in_venv([__file__, *argv])
    else:
        from bosun.cli import main as cli_main

        raise SystemExit(cli_main(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
