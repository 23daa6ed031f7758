"""`orchestrator.py reconcile --once`: one full pass of everything, for cron.

Every minion's heartbeat first (so the node lifecycle controller sees the minions that answer
now, not at the last run: runs a minute apart would otherwise find every heartbeat stale, taint
every Node unreachable and leave new pods unscheduled), then controllers and scheduler, then
every minion's kubelet pass (in parallel), then the loops that follow pod IPs. It holds the same
etcd lock as a leading `serve`, so two overlapping cron runs (or cron and a running `serve`)
never act at once. `--check` takes no lock and changes nothing:
it prints, per minion, what a pass would do, like Ansible's --check.

Exit codes: 0 converged (nothing was left to do), 2 not yet converged (this run changed things
or is waiting on something), 3 another run holds the lock (nothing done), 1 error.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

from bosun.api.rest import Api
from bosun.controllers.leader import LOCK_NAME, holder_name
from bosun.controllers.loops import build_loops
from bosun.controllers.manager import ControllerManager
from bosun.errors import BosunError
from bosun.inventory import load_inventory
from bosun.kubelet.cluster import PodView, ServiceView
from bosun.kubelet.loop import MinionWorker
from bosun.store import Store

EXIT_CONVERGED, EXIT_ERROR, EXIT_CHANGED, EXIT_LOCKED = 0, 1, 2, 3
LOCK_TTL = 120  # longer than any pass; released at the end


def _describe(action) -> str:
    fields = {k: v for k, v in vars(action).items() if k not in ("pod", "pod_uid")}
    pod = getattr(action, "pod", None)
    who = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}" if pod else \
        action.pod_uid[:8]
    details = " ".join(f"{k}={str(v)[:24]}" for k, v in fields.items() if v not in ("", None))
    return f"{type(action).__name__} {who} {details}".rstrip()


def _each(workers: list[MinionWorker], call) -> dict[str, object | Exception]:
    """call(worker) for every worker in parallel; {minion: its result, or the BosunError}."""
    def one(worker: MinionWorker):
        try:
            return call(worker)
        except BosunError as error:
            return error

    with ThreadPoolExecutor(max_workers=max(1, len(workers))) as pool:
        return dict(zip([w.name for w in workers], pool.map(one, workers), strict=True))


def _kubelet_pass(workers: list[MinionWorker], check: bool) -> dict[str, list | Exception]:
    return _each(workers, MinionWorker.check if check else MinionWorker.sync)


def run(args: argparse.Namespace) -> int:
    store = Store(args.etcd)
    api = Api(store)
    # One listing of services and endpoints, and one of pods (taken by the first minion's pass,
    # after the controllers), for every minion's pass.
    view, pods = ServiceView(api), PodView(api)
    workers = [MinionWorker(api, a, view=view, pods=pods)
               for a in load_inventory(args.inventory).minions()]
    try:
        if args.check:
            return _check(workers)
        lock = store.acquire_lock(LOCK_NAME, holder_name("reconcile"), LOCK_TTL)
        if lock is None:
            print(f"reconcile: not acting: {store.lock_holder(LOCK_NAME)} holds the controller "
                  f"lock (another reconcile, or a leading serve)", file=sys.stderr)
            return EXIT_LOCKED
        try:
            return _once(api, store, workers)
        finally:
            lock.release()
    finally:
        for worker in workers:
            worker.close(wait=True)


def _once(api: Api, store: Store, workers: list[MinionWorker]) -> int:
    by_name = {w.name: w for w in workers}
    for name, beat in _each(workers, MinionWorker.heartbeat).items():
        if isinstance(beat, Exception):  # Unknown now; the kubelet pass below says why
            by_name[name].mark_unreachable(f"Bosun cannot reach the minion: {beat}")
    loops = build_loops(api)
    converged = ControllerManager(store, loops).run_once()
    results = _kubelet_pass(workers, check=False)
    for loop in loops:  # what follows pod IPs, now that the kubelet has written them
        if loop.name == "endpoints":
            converged[loop.name] = loop.run() and converged[loop.name]
    errors = {name: r for name, r in results.items() if isinstance(r, Exception)}
    acted = {name: r for name, r in results.items() if isinstance(r, list) and r}
    for name, actions in sorted(acted.items()):
        print(f"{name}: {len(actions)} action(s): " + ", ".join(
            type(a).__name__ for a in actions))
    for name, error in sorted(errors.items()):
        print(f"{name}: unreachable: {error}", file=sys.stderr)
        by_name[name].mark_unreachable(f"Bosun cannot reach the minion: {error}")
    waiting = [name for name, ok in converged.items() if not ok]
    for name in waiting:
        print(f"{name}: not converged yet")
    if errors:
        return EXIT_ERROR
    return EXIT_CONVERGED if not acted and not waiting else EXIT_CHANGED


def _check(workers: list[MinionWorker]) -> int:
    results = _kubelet_pass(workers, check=True)
    changes = 0
    for name in sorted(results):
        result = results[name]
        if isinstance(result, Exception):
            print(f"{name}: unreachable: {result}")
            continue
        print(f"{name}: {'ok' if not result else f'{len(result)} change(s)'}")
        for action in result:
            print(f"  would {_describe(action)}")
        changes += len(result)
    if any(isinstance(r, Exception) for r in results.values()):
        return EXIT_ERROR
    return EXIT_CHANGED if changes else EXIT_CONVERGED
