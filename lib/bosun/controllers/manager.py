"""The controller manager: every control loop of the cluster, in one process.

Each loop is one pass function (scheduler, replication manager, endpoints, node lifecycle,
garbage collector) run by its own thread, woken by the store watches of the resources it reads,
with a periodic pass as the safety net. `run_once` runs every pass once, in dependency order,
for `reconcile --once`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from bosun.errors import BosunError
from bosun.objects.status import ApiError
from bosun.store import errors as store_errors

log = logging.getLogger(__name__)

RESYNC_SECONDS = 10.0
RETRY_SECONDS = 2.0


@dataclass
class Loop:
    """One controller: `run()` does a pass and returns whether the cluster converged for it."""

    name: str
    run: Callable[[], bool]
    watches: tuple[str, ...]  # resources whose changes wake it
    wake: threading.Event = field(default_factory=threading.Event)


class ControllerManager:
    def __init__(self, store, loops: list[Loop], resync: float = RESYNC_SECONDS) -> None:
        self.store = store
        self.loops = loops
        self.resync = resync
        self.stopping = threading.Event()
        self._streams: list = []
        self._lock = threading.Lock()

    # -- one pass of everything ----------------------------------------------------------------
    def run_once(self) -> dict[str, bool]:
        """Every loop's pass once, in order; {loop name: converged}. Raises ApiError/BosunError
        when the cluster cannot be read."""
        return {loop.name: loop.run() for loop in self.loops}

    # -- as a service --------------------------------------------------------------------------
    def start(self) -> None:
        for loop in self.loops:
            self._spawn(f"controller-{loop.name}", self._run_loop, loop)
        for resource in sorted({r for loop in self.loops for r in loop.watches}):
            self._spawn(f"watch-{resource}", self._follow, resource)

    def stop(self) -> None:
        self.stopping.set()
        for loop in self.loops:
            loop.wake.set()
        with self._lock:
            for stream in self._streams:
                stream.close()

    def _spawn(self, name: str, target, *args) -> None:
        threading.Thread(target=target, args=args, name=name, daemon=True).start()

    def _run_loop(self, loop: Loop) -> None:
        while not self.stopping.is_set():
            loop.wake.clear()
            wait = self.resync
            try:
                if not loop.run():
                    wait = RETRY_SECONDS  # not converged yet: look again soon
            except (ApiError, BosunError) as error:
                log.warning("%s: pass failed: %s", loop.name, error)
                wait = RETRY_SECONDS
            except Exception:
                log.exception("%s: pass crashed", loop.name)
                wait = RETRY_SECONDS
            loop.wake.wait(wait)

    def _follow(self, resource: str) -> None:
        interested = [loop for loop in self.loops if resource in loop.watches]
        while not self.stopping.is_set():
            try:
                revision = self.store.current_revision()
                with self.store.watch(f"/registry/{resource}/", revision) as stream:
                    with self._lock:
                        self._streams.append(stream)
                    for _event in stream:
                        for loop in interested:
                            loop.wake.set()
            except (store_errors.StoreError, BosunError) as error:
                log.info("watch of %s ended (%s); watching again", resource, error)
            except Exception:
                log.exception("watch of %s crashed", resource)
            self.stopping.wait(RETRY_SECONDS)
