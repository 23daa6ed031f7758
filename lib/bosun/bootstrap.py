"""Setup and re-exec: what `orchestrator.py` does before Bosun's dependencies exist.

Standard library only. `setup` installs the Debian packages Bosun and its lab need (with
`--with-tests`, and under `test`, also the tools only the tests use) and a virtual environment in
`.venv` beside orchestrator.py; both steps are skipped when already done, so the command is
idempotent and fast on a set-up machine. Every other command re-runs itself under the
venv's interpreter.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".bosun-installed"

DEBIAN_PACKAGES = (
    "docker.io",
    "etcd-server",
    "etcd-client",
    "haproxy",
    "socat",  # the proxy talks to haproxy's runtime API (its admin socket) with it
    "iptables",
    "openssh-server",
    "busybox-static",
    "iproute2",
    "util-linux",
)

# Only the tests use these: `vagrant validate` of vagrant/Vagrantfile (no hypervisor runs here)
# and shellcheck of its provisioning scripts (tests/integration/test_vagrant.py).
TEST_DEBIAN_PACKAGES = (
    "vagrant",
    "shellcheck",
)


def missing_debian_packages(packages: tuple[str, ...] = DEBIAN_PACKAGES) -> list[str]:
    """Names from `packages` that dpkg does not list as installed."""
    missing = []
    for name in packages:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0 or probe.stdout.strip() != "installed":
            missing.append(name)
    return missing


def _python_can_make_venvs() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import ensurepip, venv"], check=False,
                           capture_output=True)
    return probe.returncode == 0


def install_debian_packages(with_tests: bool = False, log=print) -> None:
    """apt-get install whichever of Bosun's packages (and the tests' ones) are missing."""
    packages = list(DEBIAN_PACKAGES)
    if with_tests:
        packages += TEST_DEBIAN_PACKAGES
    if not _python_can_make_venvs():
        packages.append("python3-venv")
    missing = missing_debian_packages(tuple(packages))
    if not missing:
        log("debian packages: all present")
        return
    if os.geteuid() != 0:
        raise SystemExit(f"setup: installing {' '.join(missing)} needs root")
    log(f"debian packages: installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing],
                   check=True, env=env)


def _wanted_stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return f"{digest} {extras}\n"


def install_python_env(with_tests: bool, log=print) -> None:
    """Create .venv and install Bosun (editable) with pinned dependencies, unless already done."""
    extras = "[test]" if with_tests else ""
    if STAMP.exists():
        have = STAMP.read_text()
        # An install with the test extras also serves a plain one.
        if have == _wanted_stamp(extras) or (not with_tests and have == _wanted_stamp("[test]")):
            log(f"python environment: up to date ({VENV})")
            return
    if not VENV_PYTHON.exists():
        log(f"python environment: creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    log(f"python environment: installing bosun{extras}")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}{extras}"], check=True)
    STAMP.write_text(_wanted_stamp(extras))


def setup(with_tests: bool = False) -> None:
    install_debian_packages(with_tests)
    install_python_env(with_tests)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def reexec_in_venv(argv: list[str]) -> None:
    """Replace this process with the same command under .venv's python. Does not return."""
    if not VENV_PYTHON.exists():
        raise SystemExit("bosun is not set up here yet: run ./orchestrator.py setup first")
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *argv])

