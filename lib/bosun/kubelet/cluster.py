"""The cluster's Services, Endpoints and Pods as every minion's worker sees them: listed once
per change for all minions, not once per minion per pass.

The Kubelet's watches mark a view stale; the next worker to ask lists again, and every other
worker shares that listing. `generation` moves only when what was listed differs from the last
listing, so a worker can tell "nothing changed for the proxy" without a look at its minion.
Listings older than `max_age` are taken again regardless (a missed watch event costs at most
that long); `max_age=0` lists on every call.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api

MAX_AGE_SECONDS = 30.0


@dataclass(frozen=True)
class Listing:
    """What one listing found, resource -> items; shared by every worker, so read-only."""

    generation: int
    items: dict[str, list[dict]]

    @property
    def services(self) -> list[dict]:
        return self.items.get("services", [])

    @property
    def endpoints(self) -> list[dict]:
        return self.items.get("endpoints", [])

    def services_in(self, namespace: str) -> list[dict]:
        return [s for s in self.services if s["metadata"]["namespace"] == namespace]

    def pods_on(self, node: str) -> list[dict]:
        """The pods bound to `node`, copies the caller may change."""
        return copy.deepcopy(self._pods_by_node.get(node, []))

    @cached_property
    def _pods_by_node(self) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = defaultdict(list)
        for pod in self.items.get("pods", []):
            found[(pod.get("spec") or {}).get("nodeName") or ""].append(pod)
        return dict(found)


class SharedListing:
    """Shared, read-only listing of every object of `resources`."""

    resources: tuple[str, ...] = ()

    def __init__(self, api: Api, max_age: float = MAX_AGE_SECONDS, clock=time.monotonic) -> None:
        self.api = api
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Condition()
        self._listing = -1  # the value of _stale a listing under way was started at (-1: none)
        self._stale = 0  # bumped by every change the watches report
        self._listed: Listing | None = None
        self._listed_stale = -1  # the value of _stale the current listing was taken at
        self._listed_at = 0.0
        self._generations = 0  # every new Listing takes the next number: no two share one

    def changed(self) -> None:
        """An object changed (or a watch restarted): list again."""
        with self._lock:
            self._stale += 1

    def get(self) -> Listing:
        """The current listing, taken again if stale or older than max_age. Raises what the
        Api raises (StoreUnavailable when etcd is down)."""
        with self._lock:
            # Workers asking while a listing of the current state is under way wait for it
            # (a fleet's passes start together: one listing, not one each).
            while not self._fresh() and self._listing == self._stale and self.max_age > 0:
                self._lock.wait()
            if self._fresh():
                return self._listed
            stale, listed_at = self._stale, self.clock()
            self._listing = stale
        # List outside the lock: a change reported meanwhile lets the next caller list anew;
        # two listings at once both give a correct answer and the later one is kept.
        try:
            items = {resource: self.api.list(Target(resource), Query())["items"]
                     for resource in self.resources}
        except BaseException:
            with self._lock:
                self._done_listing(stale)
            raise
        with self._lock:
            self._done_listing(stale)
            current = self._listed
            if current is not None and current.items == items:
                listing = current
            else:
                self._generations += 1
                listing = Listing(self._generations, items)
            if stale >= self._listed_stale:  # not older than what another worker stored
                self._listed, self._listed_stale, self._listed_at = listing, stale, listed_at
            return listing

    def _done_listing(self, stale: int) -> None:
        """Under the lock: the listing started at `stale` is over; wake whoever waits for it
        (they find it stored, or list themselves if it failed)."""
        if self._listing == stale:
            self._listing = -1
        self._lock.notify_all()

    def _fresh(self) -> bool:
        return (self._listed is not None and self._listed_stale == self._stale
                and self.clock() - self._listed_at < self.max_age)


class ServiceView(SharedListing):
    """Every Service and Endpoints object: what the proxy and the containers' variables need."""

    resources = ("services", "endpoints")


class PodView(SharedListing):
    """Every pod, for each worker to take its minion's from (`pods_on`): one listing for all
    minions instead of one per minion per pass, each decoding every pod to keep a few."""

    resources = ("pods",)
