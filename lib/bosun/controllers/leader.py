"""Leader election through an etcd lease: only the holder of the `controller` lock acts.

Every `serve` process answers the API; the one holding the lock also runs the kubelet and the
control loops. The leader renews its lease every third of the TTL and steps down (stops its
loops) the moment a renewal fails; a standby tries every second, so a dead leader is replaced
within about one TTL. `reconcile --once` takes the same lock, so cron runs and a running
`serve` never act at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from bosun.store import errors as store_errors

log = logging.getLogger(__name__)

LOCK_NAME = "controller"
DEFAULT_TTL = 6


def holder_name(role: str) -> str:
    """Unique per process: host, pid and role (`serve`, `reconcile`)."""
    return f"{socket.gethostname()}/{os.getpid()}/{role}"


class LeaderElector:
    def __init__(self, store, holder: str, on_lead: Callable[[], None],
                 on_lose: Callable[[], None], ttl: int = DEFAULT_TTL) -> None:
        self.store = store
        self.holder = holder
        self.on_lead = on_lead
        self.on_lose = on_lose
        self.ttl = ttl
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self.ttl)

    def _run(self) -> None:
        while not self._stopping.is_set():
            lock = self._try_acquire()
            if lock is None:
                self._stopping.wait(1.0)
                continue
            log.warning("%s is the leader: running the kubelet and controllers", self.holder)
            self.leading.set()
            self.on_lead()
            self._hold(lock)
            self.leading.clear()
            self.on_lose()
            log.warning("%s stepped down", self.holder)

    def _try_acquire(self):
        try:
            return self.store.acquire_lock(LOCK_NAME, self.holder, self.ttl)
        except store_errors.StoreError as error:
            log.info("leader election: %s", error)
            return None

    def _hold(self, lock) -> None:
        """Renew until told to stop or the lease is lost; release on the way out."""
        while not self._stopping.wait(self.ttl / 3):
            try:
                lock.refresh()
            except store_errors.LockLost:
                return
            except store_errors.StoreError as error:
                if not lock.held:
                    log.warning("leader lease expired while etcd was away: %s", error)
                    return
        try:
            lock.release()
        except store_errors.StoreError:
            pass  # it frees itself at its TTL
