"""The test suite's own lab: index 1 (its own networks and etcd port), in a temporary folder.
BOSUN_TEST_LAB_INDEX picks another index, so a second test run can have a lab of its own.

It is brought up once per test session through the real CLI, and torn down at the end; the
teardown test and this fixture both check that nothing of it is left on the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bosun.lab import teardown
from bosun.lab.spec import LabSpec, MinionSpec
from bosun.lab.system import in_minion

ROOT = Path(__file__).resolve().parents[2]
ORCHESTRATOR = [sys.executable, str(ROOT / "orchestrator.py")]
# The suite's own lab; two modules bring up short-lived labs of their own at the next indices
# (TEST_LAB_INDEX + 1 and + 3), so a second test run beside the first sets this to 5, say.
TEST_LAB_INDEX = int(os.environ.get("BOSUN_TEST_LAB_INDEX", "1"))
TEST_LAB_MINIONS = 3


@dataclass
class Lab:
    spec: LabSpec
    up_seconds: float

    @property
    def state_dir(self) -> Path:
        return self.spec.state_dir

    @property
    def inventory_path(self) -> Path:
        return self.spec.inventory_path

    @property
    def inventory(self):
        from bosun.inventory import load_inventory

        return load_inventory(self.inventory_path)

    @property
    def minions(self) -> list[MinionSpec]:
        return self.spec.all_minions()

    def minion(self, name: str) -> MinionSpec:
        return next(m for m in self.minions if m.name == name)

    def exec(self, name: str, argv: Sequence[str], check: bool = True,
             **kwargs) -> subprocess.CompletedProcess:
        """Run argv inside a minion from the host side (to break things on purpose)."""
        minion = self.minion(name)
        return subprocess.run(in_minion(minion.netns, self.spec.ns_dir, minion.name, argv),
                              check=check, capture_output=True, **kwargs)


def lab_cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, BOSUN_LAB_DIR=str(state_dir))
    return subprocess.run([*ORCHESTRATOR, "lab", *args], env=env, capture_output=True, text=True,
                          check=False)


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("integration tests build a lab of namespaces: run them as root")


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    require_root()
    state_dir = tmp_path_factory.mktemp("lab")
    started = time.monotonic()
    done = lab_cli(state_dir, "up", "--minions", str(TEST_LAB_MINIONS), "--index",
                   str(TEST_LAB_INDEX))
    elapsed = time.monotonic() - started
    spec = LabSpec.load(state_dir)
    try:
        assert done.returncode == 0, done.stderr
        yield Lab(spec=spec, up_seconds=elapsed)
    finally:
        if spec is not None:
            down = lab_cli(state_dir, "down")
            assert down.returncode == 0, down.stderr
            assert teardown.leftovers(spec) == []


@pytest.fixture(scope="session")
def etcd(tmp_path_factory):
    """A throwaway etcd for the API tests (the lab's etcd is the lab's)."""
    from bosun.store.local import LocalEtcd

    with LocalEtcd(tmp_path_factory.mktemp("etcd") / "data") as server:
        yield server


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory, etcd):
    """A real `orchestrator.py serve` over TLS with a token, and kubectl pointed at it."""
    from .apiserver import ApiServer

    server = ApiServer(tmp_path_factory.mktemp("apiserver"), etcd)
    server.start()
    try:
        yield server
    finally:
        server.stop()
