"""A kubeconfig for kubectl and the Python client: the server, the CA that signed it, a token."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def render(server: str, token: str, ca_cert: Path | None, name: str = "bosun") -> str:
    """Kubeconfig YAML. Without ca_cert the server is plain HTTP (loopback only)."""
    cluster: dict = {"server": server}
    if ca_cert is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_cert.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": f"{name}-admin", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin",
                                                "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(path: Path, server: str, token: str, ca_cert: Path | None) -> None:
    """Write the kubeconfig readable by its owner only (it holds a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(render(server, token, ca_cert))
