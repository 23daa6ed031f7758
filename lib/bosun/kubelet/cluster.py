"""The cluster's Services and Endpoints as every minion's worker sees them: listed once per
change for all minions, not once per minion per pass.

The Kubelet's services and endpoints watches mark the view stale; the next worker to ask lists
both again, and every other worker shares that listing. `generation` moves only when what was
listed differs from the last listing, so a worker can tell "nothing changed for the proxy"
without a look at its minion. Listings older than `max_age` are taken again regardless (a
missed watch event costs at most that long); `max_age=0` lists on every call, for passes that
run without watches (`reconcile --once`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api

MAX_AGE_SECONDS = 30.0


@dataclass(frozen=True)
class Listing:
    generation: int
    services: list[dict]
    endpoints: list[dict]

    def services_in(self, namespace: str) -> list[dict]:
        return [s for s in self.services if s["metadata"]["namespace"] == namespace]


class ServiceView:
    """Shared, read-only listing of every Service and Endpoints object."""

    def __init__(self, api: Api, max_age: float = MAX_AGE_SECONDS, clock=time.monotonic) -> None:
        self.api = api
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._stale = 0  # bumped by every change the watches report
        self._listed: Listing | None = None
        self._listed_stale = -1  # the value of _stale the current listing was taken at
        self._listed_at = 0.0
        self._generations = 0  # every new Listing takes the next number: no two share one

    def changed(self) -> None:
        """A service or endpoints object changed (or a watch restarted): list again."""
        with self._lock:
            self._stale += 1

    def get(self) -> Listing:
        """The current listing, taken again if stale or older than max_age. Raises what the
        Api raises (StoreUnavailable when etcd is down)."""
        with self._lock:
            if self._fresh():
                return self._listed
            stale, listed_at = self._stale, self.clock()
        # List outside the lock: a slow etcd must not hold every worker; two workers listing at
        # once both get a correct answer and the later one is kept.
        services = self.api.list(Target("services"), Query())["items"]
        endpoints = self.api.list(Target("endpoints"), Query())["items"]
        with self._lock:
            current = self._listed
            if current is not None and (current.services, current.endpoints) == (services,
                                                                                 endpoints):
                listing = current
            else:
                self._generations += 1
                listing = Listing(self._generations, services, endpoints)
            if stale >= self._listed_stale:  # not older than what another worker stored
                self._listed, self._listed_stale, self._listed_at = listing, stale, listed_at
            return listing

    def _fresh(self) -> bool:
        return (self._listed is not None and self._listed_stale == self._stale
                and self.clock() - self._listed_at < self.max_age)
