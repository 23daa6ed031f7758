"""`orchestrator.py demo`, the main job: the local lab up with Bosun serving it, the example app
(manifests/) built, applied and answering, then a summary of where everything is.

Every step is the command a user would type (`lab up`, `image build`, `apply -f manifests/`),
run in-process, so the demo shows nothing the commands cannot do. Each step skips what is
already there: run twice, the second run changes nothing and just reports.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bosun.api.client import Client, ClientError, ConnectError, load_kubeconfig
from bosun.bootstrap import ROOT
from bosun.errors import BosunError
from bosun.lab import commands as lab_commands
from bosun.lab.spec import LabSpec

MANIFESTS = ROOT / "manifests"
APP_SELECTOR = "app=guestbook"
FRONTEND_SERVICE = "guestbook-frontend"
# The frontend's page names the backend pod that answered it (`unknown` when the backend did
# not answer): proof that the page was built through the backend's service.
PAGE_MARKER = '<b id="backend">guestbook-backend-'
WAIT_SECONDS = 180.0


class DemoError(BosunError):
    """A step of the demo failed; the message says which and what to look at."""


@dataclass(frozen=True)
class AppState:
    """What the demo waits on, read from the API in one go."""

    pods: list[dict]
    wanted: int  # replicas over every RC of the app

    @property
    def running(self) -> list[dict]:
        return [p for p in self.pods if _ready(p)]

    def line(self) -> str:
        phases = Counter(_phase(p) for p in self.pods)
        detail = ", ".join(f"{n} {phase}" for phase, n in sorted(phases.items()))
        return f"pods ready {len(self.running)}/{self.wanted}" + (f" ({detail})" if detail else "")


def _ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _phase(pod: dict) -> str:
    """Running, Pending, or the reason a container waits (ContainerCreating, ErrImagePull)."""
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    return status.get("phase") or "Pending"


def read_state(client: Client) -> AppState:
    pods = client.list("/api/v1/namespaces/default/pods",
                       {"labelSelector": APP_SELECTOR})["items"]
    rcs = client.list("/api/v1/namespaces/default/replicationcontrollers",
                      {"labelSelector": APP_SELECTOR})["items"]
    return AppState(pods, sum((rc.get("spec") or {}).get("replicas", 1) for rc in rcs))


def node_port_url(client: Client, spec: LabSpec) -> str:
    service = client.get(f"/api/v1/namespaces/default/services/{FRONTEND_SERVICE}")
    port = next(p["nodePort"] for p in service["spec"]["ports"] if p.get("nodePort"))
    return f"http://{spec.all_minions()[0].address}:{port}/"


# Straight to the minion: a proxy from the environment must never see lab addresses.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> str | None:
    """The page at url, or None while it does not answer with 200."""
    try:
        with _OPENER.open(url, timeout=3) as reply:
            return reply.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return None


class Progress:
    """One line that rewrites itself on a terminal, or a line per change elsewhere (CI logs)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last = ""

    def show(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.tty:
            self.out.write(f"\r\033[K{text}")
        else:
            self.out.write(f"{text}\n")
        self.out.flush()

    def done(self) -> None:
        if self.tty and self.last:
            self.out.write("\n")
            self.out.flush()


def wait_for_app(client: Client, url_of, out: TextIO, timeout: float = WAIT_SECONDS) -> tuple:
    """Until every pod of the app is ready and the frontend's page names a backend pod;
    (state, url, page). Raises DemoError on timeout, with what it saw last."""
    progress = Progress(out)
    deadline = time.monotonic() + timeout
    state, page, url = None, None, None
    started = time.monotonic()
    while time.monotonic() < deadline:
        state = read_state(client)
        if state.wanted and len(state.running) == state.wanted:
            url = url or url_of()
            page = fetch(url)
            if page and PAGE_MARKER in page:
                progress.show(f"{state.line()}; {url} answers "
                              f"({time.monotonic() - started:.1f} s)")
                progress.done()
                return state, url, page
            progress.show(f"{state.line()}; waiting for {url} to answer")
        else:
            progress.show(state.line())
        time.sleep(0.5)
    progress.done()
    seen = state.line() if state else "nothing"
    raise DemoError(f"the example app was not up within {timeout:.0f} s: {seen}. Look at "
                    f"`./orchestrator.py get pods -o wide` and `./orchestrator.py describe pod "
                    f"NAME`, and the server's log in .lab/api/serve.log")


def summary(client: Client, spec: LabSpec, state: AppState, url: str) -> str:
    nodes = client.list("/api/v1/nodes")["items"]
    per_node = Counter((p.get("spec") or {}).get("nodeName") for p in state.pods)
    lines = ["", "Bosun is running the example app on the local lab.", "", "Nodes:"]
    for node in nodes:
        name = node["metadata"]["name"]
        address = next((a["address"] for a in node["status"].get("addresses", [])
                        if a["type"] == "InternalIP"), "?")
        pods = sorted(p["metadata"]["name"] for p in state.pods
                      if (p.get("spec") or {}).get("nodeName") == name)
        lines.append(f"  {name:<10} {address:<15} {per_node.get(name, 0)} pod(s): "
                     f"{' '.join(pods)}")
    kubeconfig = spec.kubeconfig
    lines += [
        "",
        f"Guestbook:  {url}   (any minion's address answers on the node port)",
        f"            curl '{url}?entry=hello'",
        "",
        "Use kubectl (or ./orchestrator.py get|describe|logs|scale ...):",
        f"  export KUBECONFIG={kubeconfig}",
        "  kubectl get nodes,pods,services,rc -o wide",
        "  kubectl scale rc guestbook-frontend --replicas=5",
        "",
        "Tear it all down:  ./orchestrator.py lab down",
    ]
    return "\n".join(lines)


def _step(out: TextIO, text: str) -> None:
    out.write(f"==> {text}\n")
    out.flush()


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from bosun import cli  # the same commands a user types

    state_dir = lab_commands.state_dir(args)
    lab_args = ["lab", "up", "--minions", str(args.minions), "--index", str(args.index),
                "--state-dir", str(state_dir)]
    _step(out, "bringing up the local lab (" + " ".join(lab_args[2:]) + ")")
    if cli.main(lab_args) != 0:
        raise DemoError("lab up failed (see above)")
    spec = LabSpec.load(state_dir)
    _step(out, "building the example images and putting them on every minion")
    if cli.main(["image", "build", "-i", str(spec.inventory_path)]) != 0:
        raise DemoError("image build failed (see above)")
    _step(out, f"applying {MANIFESTS.relative_to(ROOT)}/")
    kubeconfig = str(spec.kubeconfig)
    if cli.main(["apply", "-f", str(MANIFESTS), "--kubeconfig", kubeconfig]) != 0:
        raise DemoError("apply failed (see above)")
    _step(out, "waiting until every pod runs and the frontend answers")
    try:
        with Client(load_kubeconfig(kubeconfig)) as client:
            state, url, _ = wait_for_app(client, lambda: node_port_url(client, spec), out)
            out.write(summary(client, spec, state, url) + "\n")
    except (ClientError, ConnectError) as error:
        raise DemoError(f"Bosun's API did not answer: {error}") from error
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minions", type=int, default=3, help="minions in the lab (default 3)")
    parser.add_argument("--index", type=int, default=0,
                        help="lab index, for a lab beside the default one (default 0)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="the lab's folder (default: $BOSUN_LAB_DIR, then .lab)")
