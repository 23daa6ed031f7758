"""A real `orchestrator.py serve` for the API tests: its own etcd, TLS, a token, a kubeconfig,
and real kubectl pointed at it with a private HOME (kubectl caches discovery there)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bosun.store.local import LocalEtcd, free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ApiServer:
    workdir: Path
    etcd: LocalEtcd
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.workdir / "data" / "tokens.csv").read_text().split(",")[0]

    def argv(self) -> list[str]:
        return [sys.executable, str(ROOT / "orchestrator.py"), "serve",
                "--data-dir", str(self.workdir / "data"), "--etcd", self.etcd.endpoint,
                "--port", str(self.port), "--kubeconfig", str(self.kubeconfig)]

    def start(self, wait: float = 20) -> None:
        log = open(self.workdir / "serve.log", "ab")
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not come up: {self.log()}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/version", timeout=1,
                                        context=self.ssl_context()) as reply:
                return reply.status == 200
        except (OSError, ValueError):
            return False

    def ssl_context(self) -> ssl.SSLContext:
        ca = self.workdir / "data" / "pki" / "ca.crt"
        return ssl.create_default_context(cafile=str(ca)) if ca.exists() else \
            ssl.create_default_context()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        path = self.workdir / "serve.log"
        return path.read_text() if path.exists() else ""

    # -- clients -------------------------------------------------------------------------------
    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 30) -> subprocess.CompletedProcess:
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "KUBECONFIG": str(self.kubeconfig)}
        done = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stderr}\n--- serve log ---\n{self.log()[-3000:]}")
        return done

    def request(self, method: str, path: str, body: object = None,
                content_type: str = "application/json", token: str | None = "default",
                raw: bytes | None = None, accept: str = "application/json"):
        """One HTTP request; returns (status, parsed JSON or text)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", content_type)
        request.add_header("Accept", accept)
        if token is not None:
            request.add_header("Authorization",
                               f"Bearer {self.token if token == 'default' else token}")
        try:
            with urllib.request.urlopen(request, context=self.ssl_context(), timeout=10) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")
