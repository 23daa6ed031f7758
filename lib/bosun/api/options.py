"""Options of `orchestrator.py serve`, kept apart so parsing them imports nothing heavy."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 6443
DEFAULT_ETCD = "http://127.0.0.1:23790"


@dataclass(frozen=True)
class ServeOptions:
    data_dir: Path
    etcd: str = DEFAULT_ETCD
    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    insecure_http: bool = False
    token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    service_cidr: str = "10.0.0.0/24"
    kubeconfig: Path | None = None
    extra_sans: tuple[str, ...] = ()
    inventory: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServeOptions:
        return cls(
            data_dir=Path(args.data_dir).resolve(), etcd=args.etcd, bind=args.bind,
            port=args.port, insecure_http=args.insecure_http,
            token_file=Path(args.token_file) if args.token_file else None,
            tls_cert=Path(args.tls_cert) if args.tls_cert else None,
            tls_key=Path(args.tls_key) if args.tls_key else None,
            service_cidr=args.service_cidr,
            kubeconfig=Path(args.kubeconfig) if args.kubeconfig else None,
            extra_sans=tuple(args.san or ()),
            inventory=Path(args.inventory) if args.inventory else None,
        )

    def client_host(self) -> str:
        """The address clients should use: the bound one, or loopback for a wildcard."""
        return "127.0.0.1" if self.bind in ("0.0.0.0", "::") else self.bind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="/var/lib/bosun",
                        help="certificates, tokens (default /var/lib/bosun)")
    parser.add_argument("--etcd", default=DEFAULT_ETCD, help=f"etcd URL (default {DEFAULT_ETCD})")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 6443)")
    parser.add_argument("--insecure-http", action="store_true",
                        help="plain HTTP without tokens; only on a loopback --bind")
    parser.add_argument("--token-file", help="static tokens: token,user,uid,\"groups\"")
    parser.add_argument("--tls-cert", help="server certificate (default: made on first start)")
    parser.add_argument("--tls-key", help="server key for --tls-cert")
    parser.add_argument("--service-cidr", default="10.0.0.0/24", help="range of cluster IPs")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the admin token here")
    parser.add_argument("--san", action="append", help="another name or IP for the certificate")
    parser.add_argument("-i", "--inventory",
                        help="run the kubelet for the minions of this inventory, too")
