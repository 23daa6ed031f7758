"""The control loops Bosun runs, as `Loop`s for the controller manager.

Each pass reads through the in-process API, asks a pure plan, and writes back through the API,
so every write is validated and conditional like a client's. Each returns whether it found the
cluster converged (nothing left to do that it could do now).
"""

from __future__ import annotations

from bosun.controllers.manager import Loop
from bosun.events import EventRecorder
from bosun.scheduler import binder


def recorder_for(api, component: str) -> EventRecorder:
    from bosun.api.paths import Target
    from bosun.api.query import Query

    return EventRecorder(
        component, "",
        lambda ns, event: api.create(Target("events", ns), event, Query())[0],
        lambda ns, name, event: api.update(Target("events", ns, name), event, Query())[0],
        api.now)


def scheduler_loop(api) -> Loop:
    recorder = recorder_for(api, "default-scheduler")
    return Loop("scheduler", lambda: binder.schedule_pass(api, recorder).converged,
                watches=("pods", "nodes"))


def build_loops(api) -> list[Loop]:
    """Every loop, in the order `reconcile --once` runs them."""
    return [scheduler_loop(api)]
