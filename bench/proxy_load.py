#!/usr/bin/env python3
"""Load generator for bench/proxy.py: HTTP/1.0 GETs at a fixed concurrency, in short slices
that alternate between modes (sets of targets), so that every mode sees the same machine load.

Every request opens a new TCP connection to the mode's next target (round robin, or one at
random for a --random mode, as iptables mode's DNAT picks), sends
`GET / HTTP/1.0`, reads to EOF and checks that the status is 200 and the body one of the
expected names. A slice ends when its time is up and its requests in flight have ended; then the
next mode's slice starts. Standard library only (one asyncio loop, raw non-blocking sockets), so
that it runs under any Python inside a minion's network namespace:

    nsenter --net=/run/netns/NETNS PYTHON bench/proxy_load.py --mode direct=IP:PORT,IP:PORT \\
        --mode vip=IP:PORT --expect NAME [--expect ...] [--concurrency 16] [--duration 5] \\
        [--slice 0.5] [--warmup 0.5] [--pid PID ...] [--cgroup CPUACCT_USAGE_FILE ...]
        [--source NAME=IP ...] [--random NAME ...]

Prints one JSON object, per mode: ok requests, errors by kind, measured seconds, latencies of
the ok requests (ms), req/s of each slice, and CPU seconds over its slices: this process's, each
--pid's (haproxy, say), each --cgroup's (the pods'), and the whole machine's busy time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import resource
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n"
CHUNK = 65536
TICK = os.sysconf("SC_CLK_TCK")


class BadReply(Exception):
    """The connection worked but the answer was not a 200 with an expected name."""


async def fetch(loop: asyncio.AbstractEventLoop, target: tuple[str, int],
                source: str | None = None) -> bytes:
    """One request on a new connection (from `source`, else the route's address); the whole
    reply, read to EOF."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        if source:
            sock.bind((source, 0))
        await loop.sock_connect(sock, target)
        await loop.sock_sendall(sock, REQUEST)
        chunks = []
        while data := await loop.sock_recv(sock, CHUNK):
            chunks.append(data)
        return b"".join(chunks)
    finally:
        sock.close()


def check(reply: bytes, expected: frozenset[str]) -> None:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        raise BadReply("empty reply" if not reply else "bad status")
    if body.decode(errors="replace").strip() not in expected:
        raise BadReply("bad body")


def cpu_now(pids: list[int], cgroups: list[str]) -> dict[str, float]:
    """CPU seconds so far: this process, each pid, each cgroup (a cpuacct.usage file) and the
    machine (all cores, busy time)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    found = {"client": usage.ru_utime + usage.ru_stime}
    for path in cgroups:
        try:
            with open(path) as f:
                found[path] = int(f.read()) / 1e9
        except OSError:
            found[path] = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            found[str(pid)] = (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            found[str(pid)] = 0.0
    with open("/proc/stat") as f:
        ticks = [int(t) for t in f.readline().split()[1:9]]
    found["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / TICK  # less idle and iowait
    return found


class Mode:
    """One set of targets and everything measured for it."""

    def __init__(self, name: str, targets: list[tuple[str, int]],
                 source: str | None = None, at_random: bool = False) -> None:
        self.name = name
        self.source = source
        self.targets = (iter(lambda: random.choice(targets), None) if at_random
                        else itertools.cycle(targets))
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.seconds = 0.0
        self.slices: list[float] = []
        self.cpu: dict[str, float] = {}

    def result(self) -> dict:
        return {"ok": len(self.latencies), "errors": self.errors, "seconds": self.seconds,
                "cpu": self.cpu, "slices": self.slices,
                "latencies_ms": [round(x, 3) for x in self.latencies]}


class Load:
    def __init__(self, expected: frozenset[str], concurrency: int, timeout: float,
                 pids: list[int], cgroups: list[str]) -> None:
        self.expected = expected
        self.concurrency = concurrency
        self.timeout = timeout
        self.pids = pids
        self.cgroups = cgroups

    async def worker(self, mode: Mode, until: float, record: bool) -> int:
        loop = asyncio.get_running_loop()
        ok = 0
        while time.perf_counter() < until:
            target = next(mode.targets)
            began = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout):
                    reply = await fetch(loop, target, mode.source)
                check(reply, self.expected)
            except TimeoutError:
                kind = "timeout"
            except ConnectionRefusedError:
                kind = "refused"
            except ConnectionResetError:
                kind = "reset"
            except OSError as error:
                kind = f"os error {error.errno}"
            except BadReply as error:
                kind = str(error)
            else:
                ok += 1
                if record:
                    mode.latencies.append((time.perf_counter() - began) * 1000)
                continue
            if record:
                mode.errors[kind] = mode.errors.get(kind, 0) + 1
        return ok

    async def slice(self, mode: Mode, seconds: float, record: bool) -> None:
        """`concurrency` workers on `mode` for `seconds`, until the last request ended."""
        cpu = cpu_now(self.pids, self.cgroups)
        began = time.perf_counter()
        done = await asyncio.gather(*(self.worker(mode, began + seconds, record)
                                      for _ in range(self.concurrency)))
        took = time.perf_counter() - began
        if record:
            mode.seconds += took
            mode.slices.append(sum(done) / took)
            for key, value in cpu_now(self.pids, self.cgroups).items():
                mode.cpu[key] = mode.cpu.get(key, 0.0) + value - cpu[key]


async def main_async(args: argparse.Namespace) -> dict:
    modes = []
    sources = dict(text.partition("=")[::2] for text in args.source)
    for text in args.mode:
        name, _, targets = text.partition("=")
        modes.append(Mode(name, [(t.rpartition(":")[0], int(t.rpartition(":")[2]))
                                 for t in targets.split(",")], sources.get(name),
                          name in args.random))
    load = Load(frozenset(args.expect), args.concurrency, args.timeout, args.pid, args.cgroup)
    if args.warmup > 0:
        for mode in modes:
            await load.slice(mode, args.warmup, record=False)
    for _ in range(math.ceil(args.duration / args.slice)):
        for mode in modes:
            await load.slice(mode, args.slice, record=True)
    return {mode.name: mode.result() for mode in modes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", action="append", required=True,
                        help="NAME=IP:PORT[,IP:PORT...] (repeatable; slices alternate)")
    parser.add_argument("--expect", action="append", required=True,
                        help="a name the body may be (repeatable)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0,
                        help="measured seconds per mode (rounded up to whole slices)")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds per slice")
    parser.add_argument("--warmup", type=float, default=0.5,
                        help="unmeasured seconds per mode first")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request, seconds")
    parser.add_argument("--pid", type=int, action="append", default=[],
                        help="a process whose CPU time to count per mode (repeatable)")
    parser.add_argument("--cgroup", action="append", default=[],
                        help="a cgroup's cpuacct.usage file to count per mode (repeatable)")
    parser.add_argument("--source", action="append", default=[],
                        help="NAME=IP: the address a mode's connections come from (repeatable)")
    parser.add_argument("--random", action="append", default=[],
                        help="NAME: a mode that picks its target at random (repeatable)")
    args = parser.parse_args(argv)
    json.dump(asyncio.run(main_async(args)), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
