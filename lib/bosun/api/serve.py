"""`orchestrator.py serve`: the API server over etcd, TLS and tokens by default.

Plain HTTP without tokens is only allowed when asked for (`--insecure-http`) and only on a
loopback address. On first start it makes a CA, a server certificate and an admin token in the
data folder, and can write a kubeconfig for that token.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import socket
from pathlib import Path

from aiohttp import web

from bosun.api import kubeconfig, tls
from bosun.api.auth import TokenFile, ensure_token_file
from bosun.api.http import Server
from bosun.api.options import ServeOptions
from bosun.api.rest import Api
from bosun.errors import ConfigError
from bosun.objects.status import ApiError
from bosun.store import Store

log = logging.getLogger(__name__)

def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _certificate_hosts(options: ServeOptions) -> list[str]:
    hosts = ["127.0.0.1", "localhost", socket.gethostname(), *options.extra_sans]
    if options.bind not in ("0.0.0.0", "::"):
        hosts.append(options.bind)
    return list(dict.fromkeys(hosts))


def prepare(options: ServeOptions) -> tuple[TokenFile | None, tls.CertFiles | None]:
    """Tokens and certificates, made on first start; the kubeconfig if asked for.

    Raises ConfigError for plain HTTP off loopback or half-given TLS files.
    """
    if options.insecure_http:
        if not _is_loopback(options.bind):
            raise ConfigError(f"--insecure-http is only allowed on a loopback address, not "
                              f"{options.bind}: without TLS, tokens would cross the network")
        if options.kubeconfig:
            kubeconfig.write(options.kubeconfig, f"http://{options.client_host()}:{options.port}",
                             "unused", None)
        return None, None
    if bool(options.tls_cert) != bool(options.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    token_path = options.token_file or options.data_dir / "tokens.csv"
    token = ensure_token_file(token_path)
    if options.tls_cert and options.tls_key:
        certs = tls.CertFiles(options.tls_cert, options.tls_cert, options.tls_key)
    else:
        certs = tls.ensure_certificates(options.data_dir / "pki", _certificate_hosts(options))
    if options.kubeconfig:
        kubeconfig.write(options.kubeconfig, f"https://{options.client_host()}:{options.port}",
                         token, certs.ca_cert)
    return TokenFile(token_path), certs


async def serve(options: ServeOptions, ready: asyncio.Event | None = None) -> None:
    """Run the API until SIGTERM/SIGINT. Raises ConfigError on bad options."""
    tokens, certs = prepare(options)
    store = Store(options.etcd)
    api = Api(store, service_cidr=options.service_cidr)
    leadership = _elector(api, store, options)
    server = Server(api, tokens)
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, options.bind, options.port,
                       ssl_context=certs.server_context() if certs else None,
                       reuse_address=True)
    await site.start()
    scheme = "https" if certs else "http"
    log.warning("bosun API serving on %s://%s:%s (etcd %s)", scheme, options.bind,
                options.port, options.etcd)
    bootstrap = asyncio.create_task(_ensure_default_namespaces(server, api))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if leadership is not None:
        leadership[0].start()
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        if leadership is not None:
            leadership[0].stop()
            leadership[1].close()
        bootstrap.cancel()
        await runner.cleanup()
        server.pool.shutdown(wait=False, cancel_futures=True)


class Controller:
    """The kubelet and the control loops, run while this process leads (see leader.py)."""

    def __init__(self, api: Api, store: Store, inventory: Path) -> None:
        from bosun.inventory import load_inventory
        from bosun.kubelet.loop import LogReader

        self.api = api
        self.store = store
        self.addresses = load_inventory(inventory).minions()
        self.logs = LogReader(self.addresses)
        api.set_log_source(self.logs.logs)
        self._running: list = []

    def lead(self) -> None:
        from bosun.controllers.loops import build_loops
        from bosun.controllers.manager import ControllerManager
        from bosun.kubelet.loop import Kubelet

        self._running = [Kubelet(self.api, self.addresses),
                         ControllerManager(self.store, build_loops(self.api))]
        for part in self._running:
            part.start()

    def step_down(self) -> None:
        for part in self._running:
            part.stop()
        self._running = []

    def close(self) -> None:
        self.step_down()
        self.logs.close()


def _elector(api: Api, store: Store, options: ServeOptions):
    """(leader election, what it runs) for the inventory's minions; None without one."""
    if options.inventory is None:
        return None
    from bosun.controllers.leader import LeaderElector, holder_name

    controller = Controller(api, store, options.inventory)
    return LeaderElector(store, holder_name("serve"), controller.lead,
                         controller.step_down), controller


async def _ensure_default_namespaces(server: Server, api: Api) -> None:
    """Create default, kube-system and kube-public, retrying while etcd is not there yet."""
    delay = 0.5
    while True:
        try:
            await server.run(api.ensure_default_namespaces)
            return
        except ApiError as error:  # etcd may come later; the API answers 503 meanwhile
            log.warning("default namespaces not created yet (%s); retrying", error)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(ServeOptions.from_args(args)))
    return 0
