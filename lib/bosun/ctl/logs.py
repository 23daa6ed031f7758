"""`logs POD [-c CONTAINER] [-f] [--tail N]`: a container's output, streamed as it comes.

The pod is read first, as kubectl does, to check the container (or pick the default one,
saying so when the pod has several); then its `log` subresource is streamed to stdout. A server
that cannot give logs answers with a Status, which is printed as kubectl prints it.
"""

from __future__ import annotations

import argparse

from bosun.api.client import ClientError, resource_path
from bosun.ctl import resources
from bosun.ctl.session import CtlError, Session

DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def command(session: Session, args: argparse.Namespace) -> int:
    name = args.pod
    if "/" in name:
        kind, _, name = name.partition("/")
        if resources.resolve(kind).name != "pods":
            raise CtlError(f"cannot get the logs from {kind}: only pods have logs here")
    path = resource_path("pods", session.namespace, name)
    try:
        pod = session.client.get(path)
    except ClientError as error:
        if error.code != 404:
            raise
        raise CtlError(f'error from server (NotFound): pods "{name}" not found in namespace '
                       f'"{session.namespace}"') from None
    container = args.container or _default_container(session, pod)
    if container not in _containers(pod):
        raise CtlError(f"container {container} is not valid for pod {name}")
    query = {"container": container, "follow": args.follow or None,
             "tailLines": args.tail if args.tail >= 0 else None,
             "previous": args.previous or None, "timestamps": args.timestamps or None}
    with session.client.stream(f"{path}/log", query, accept="*/*") as stream:
        for chunk in stream.chunks():
            session.out.write(chunk.decode(errors="replace"))
            session.out.flush()
    return 0


def _containers(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or []]


def _default_container(session: Session, pod: dict) -> str:
    """The annotated default container, else the first; named on stderr when there are more."""
    spec = pod.get("spec") or {}
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
    if annotated in containers:
        return annotated
    if not containers:
        raise CtlError(f"pod {pod['metadata']['name']} has no containers")
    if len(containers) + len(spec.get("initContainers") or []) > 1:
        others = containers + [f"{c.get('name', '')} (init)"
                               for c in spec.get("initContainers") or []]
        session.err.write(f'Defaulted container "{containers[0]}" out of: '
                          f'{", ".join(others)}\n')
    return containers[0]
