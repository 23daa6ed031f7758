"""Local ports: which port on the minion each service port's haproxy frontend listens on.

The scheme, so that a port moves only when it must:
  * the range is 20000-29999. Not 40000-49999: that lies inside Linux's default ephemeral range
    (32768-60999), and any outgoing connection of the minion holding such a port as its source
    port makes haproxy's bind fail with EADDRINUSE, even with SO_REUSEADDR and SO_REUSEPORT
    (checked on this kernel). Below NodePort's default range (30000-32767) too.
  * a service port keeps the local port it had (`previous`, read back from the minion's current
    haproxy.cfg with `read_local_ports`) while that port is still free and in range;
  * a new one starts at `first + sha256(key) mod size` and probes upwards (wrapping) to the first
    free port. Keys are handled in sorted order, so the same cluster always gets the same ports;
    without `previous` a port can move only when a hash collision is resolved differently.
  * ports used by node ports in the same cluster are never handed out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from bosun.proxy.model import ServicePort

LOCAL_PORT_RANGE = (20000, 29999)


def allocate_local_ports(keys: Iterable[str], *, reserved: Iterable[int] = (),
                         previous: Mapping[str, int] | None = None,
                         port_range: tuple[int, int] = LOCAL_PORT_RANGE) -> dict[str, int]:
    """A local port for each key (`namespace/service:port`), stable as described above.

    Keys left out of the result found no free port (the range is full); the caller reports them.
    """
    first, last = port_range
    wanted = sorted(set(keys))
    taken = {p for p in reserved if first <= p <= last}
    result: dict[str, int] = {}
    for key in wanted:
        port = (previous or {}).get(key)
        if isinstance(port, int) and first <= port <= last and port not in taken:
            result[key] = port
            taken.add(port)
    size = last - first + 1
    for key in wanted:
        if key in result or len(taken) >= size:
            continue
        start = _slot(key, size)
        for step in range(size):
            port = first + (start + step) % size
            if port not in taken:
                result[key] = port
                taken.add(port)
                break
    return dict(sorted(result.items()))


def _slot(key: str, size: int) -> int:
    # sha256, not hash(): Python salts str hashes per process, and ports must survive restarts.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % size


def local_ports_for(ports: Iterable[ServicePort], previous: Mapping[str, int] | None = None,
                    taken: Iterable[int] = ()) -> dict[str, int]:
    """Local ports for these service ports, never one that is a node port among them or one
    that another process on the minion listens on (`taken`)."""
    ports = list(ports)
    reserved = [*(p.node_port for p in ports if p.node_port is not None), *taken]
    return allocate_local_ports((p.key for p in ports), reserved=reserved, previous=previous)
