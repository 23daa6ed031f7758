"""Fleet: every minion of an inventory, each with its kept-open connection, and a bounded
parallel map over them that returns each host's value or error.

A slow or unreachable minion costs its own timeout and never holds the others back.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bosun.minion.address import Address, label
from bosun.minion.errors import MinionTimeout
from bosun.minion.host import Minion

T = TypeVar("T")
M = TypeVar("M", bound="Member")


class Member(Protocol):
    """What Fleet needs of a minion object (Minion, or a test's recording fake)."""

    name: str

    def abort(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One minion's part of a Fleet.map: its value, or the error it raised."""

    name: str
    value: T | None = None
    error: Exception | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def result(self) -> T:
        """The value; raises the minion's error instead if it failed."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class Fleet(Generic[M]):
    """Minions by name, connected lazily, kept open across calls until close()."""

    def __init__(
        self,
        addresses: Iterable[Address],
        *,
        max_workers: int = 16,
        timeout: float = 30.0,
        member: Callable[[Address], M] = Minion,  # type: ignore[assignment]
    ) -> None:
        self.addresses = {a.name: a for a in addresses}
        self.max_workers = max(1, max_workers)
        self.timeout = timeout
        self._members: dict[str, M] = {name: member(a) for name, a in self.addresses.items()}
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="bosun-fleet")

    def __getitem__(self, name: str) -> M:
        return self._members[name]

    def __iter__(self) -> Iterator[M]:
        return iter(self._members.values())

    def __len__(self) -> int:
        return len(self._members)

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def map(
        self,
        fn: Callable[[M], T],
        *,
        timeout: float | None = None,
        names: Sequence[str] | None = None,
    ) -> dict[str, Outcome[T]]:
        """fn(minion) on every minion (or `names`), at most max_workers at once.

        Each minion gets `timeout` seconds (default: the fleet's) from when its call starts;
        a minion still waiting for a worker gives up when every batch before it could have
        used its full timeout. A late minion's outcome is a MinionTimeout, and its connection is
        dropped so the stuck worker is freed. Never raises for a minion's failure: every name
        is in the returned dict, in fleet order.
        """
        limit = self.timeout if timeout is None else timeout
        chosen = [self._members[n] for n in (names if names is not None else self._members)]
        started: dict[str, float] = {}
        futures: dict[Future[Outcome[T]], M] = {
            self._pool.submit(self._call, fn, m, started): m for m in chosen
        }
        queued = limit * max(1, math.ceil(len(chosen) / self.max_workers))
        queue_deadline = time.monotonic() + queued
        outcomes: dict[str, Outcome[T]] = {}
        pending = set(futures)
        while pending:
            now = time.monotonic()
            deadlines = {}
            for f in pending:
                start = started.get(futures[f].name)
                deadlines[f] = queue_deadline if start is None else start + limit
            for f in [f for f in pending if deadlines[f] <= now]:
                pending.discard(f)
                outcomes[futures[f].name] = self._expire(f, futures[f], limit, queued)
            if not pending:
                break
            wait_for = min(deadlines[f] for f in pending) - now
            done, pending = wait(pending, timeout=max(0.0, wait_for), return_when=FIRST_COMPLETED)
            for f in done:
                outcomes[futures[f].name] = f.result()
        return {m.name: outcomes[m.name] for m in chosen}

    def close(self) -> None:
        """Close every connection and stop the workers (waiting for none: dropping the
        connections makes any stuck call fail)."""
        for m in self._members.values():
            m.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Fleet[M]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _call(fn: Callable[[M], T], m: M, started: dict[str, float]) -> Outcome[T]:
        t0 = started[m.name] = time.monotonic()
        try:
            value = fn(m)
        except Exception as e:  # a failure of one minion is its outcome, not the fleet's
            return Outcome(m.name, error=e, seconds=time.monotonic() - t0)
        return Outcome(m.name, value=value, seconds=time.monotonic() - t0)

    def _expire(self, f: Future[Outcome[T]], m: M, limit: float, queued: float) -> Outcome[T]:
        if f.cancel():
            what = f"not started, all {self.max_workers} workers busy for {queued:g} s"
        elif f.done():
            return f.result()  # it finished just as we looked
        else:
            # Abort off this thread: closing a transport can wait on its lock briefly.
            threading.Thread(target=m.abort, name=f"bosun-abort-{m.name}", daemon=True).start()
            what = f"no answer within {limit:g} s"
        return Outcome(
            m.name,
            error=MinionTimeout(f"{label(self.addresses[m.name])}: {what}", m.name, limit),
            seconds=limit,
        )
