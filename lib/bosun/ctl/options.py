"""The arguments of the kubectl-like commands, declared for orchestrator.py's parser.

Imports nothing but argparse, so `orchestrator.py --help` stays fast; the commands themselves
are imported only when one runs.
"""

from __future__ import annotations

import argparse

COMMANDS = {
    "apply": "create or update objects from files, as `kubectl apply -f` (client-side)",
    "get": "list objects in kubectl's columns, or print them as YAML, JSON or names",
    "describe": "show an object in detail, with its events",
    "delete": "delete objects by name, by label or as named in files",
    "scale": "set the number of replicas of replication controllers",
    "logs": "print (or follow) the logs of a pod's container",
    "cordon": "mark minions unschedulable: new pods go elsewhere",
    "uncordon": "mark minions schedulable again",
    "drain": "cordon minions and evict their pods, so their controllers run them elsewhere",
}


def _value(text: str) -> str:
    """`-o=yaml` means `-o yaml`, as for kubectl."""
    return text[1:] if text.startswith("=") else text


def add_commands(sub: argparse._SubParsersAction, handler) -> None:
    """Add the commands to sub; each runs handler(args) with args.command naming it."""
    for name, help_text in COMMANDS.items():
        parser = sub.add_parser(name, help=help_text, description=help_text)
        _connection(parser)
        _ARGUMENTS[name](parser)
        parser.set_defaults(func=handler)


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then "
                        ".lab/kubeconfig of this checkout, then ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context to use")
    parser.add_argument("-n", "--namespace", type=_value,
                        help="namespace (default: the context's, else default)")


def _files(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("-f", "--filename", action="append", default=[], required=required,
                        type=_value, help="file, folder or - (stdin); may repeat")
    parser.add_argument("-R", "--recursive", action="store_true",
                        help="also the files in the folders' subfolders")


def _apply(parser: argparse.ArgumentParser) -> None:
    _files(parser, required=True)


def _get(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resources", nargs="*", metavar="RESOURCE",
                        help="TYPE[,TYPE...] [NAME...] or TYPE/NAME...")
    parser.add_argument("-l", "--selector", type=_value, help="label selector")
    parser.add_argument("--field-selector", type=_value, help="field selector")
    parser.add_argument("-A", "--all-namespaces", action="store_true")
    parser.add_argument("-o", "--output", type=_value, help="wide, yaml, json or name")
    parser.add_argument("-w", "--watch", action="store_true",
                        help="after listing, print each change as it happens")
    parser.add_argument("--show-labels", action="store_true")


def _describe(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resources", nargs="+", metavar="RESOURCE",
                        help="TYPE [NAME_PREFIX] or TYPE/NAME")
    parser.add_argument("-l", "--selector", type=_value, help="label selector")
    parser.add_argument("-A", "--all-namespaces", action="store_true")


def _delete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resources", nargs="*", metavar="RESOURCE",
                        help="TYPE[,TYPE...] NAME... or TYPE/NAME...")
    _files(parser, required=False)
    parser.add_argument("-l", "--selector", type=_value, help="delete what matches")
    parser.add_argument("--all", action="store_true", help="delete every object of the types")
    parser.add_argument("--ignore-not-found", action="store_true")
    parser.add_argument("--wait", type=lambda v: v.lower() != "false", default=True,
                        metavar="true|false", help="wait until the objects are gone")


def _scale(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resources", nargs="+", metavar="RESOURCE",
                        help="rc NAME... or rc/NAME...")
    parser.add_argument("--replicas", type=int, required=True)
    parser.add_argument("--current-replicas", type=int, default=-1,
                        help="only scale when the current number of replicas is this")


def _logs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pod", metavar="POD", help="POD or pod/POD")
    parser.add_argument("-c", "--container", type=_value)
    parser.add_argument("-f", "--follow", action="store_true", help="stream new lines")
    parser.add_argument("--tail", type=int, default=-1, help="only the last N lines")
    parser.add_argument("-p", "--previous", action="store_true",
                        help="the previous instance of the container")
    parser.add_argument("--timestamps", action="store_true")


def _nodes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("nodes", nargs="+", metavar="NODE", help="minion name(s)")


def _drain(parser: argparse.ArgumentParser) -> None:
    _nodes(parser)
    parser.add_argument("--force", action="store_true",
                        help="also evict pods that declare no controller (they are gone for good)")
    parser.add_argument("--delete-emptydir-data", action="store_true",
                        help="also evict pods with emptyDir volumes (their data is lost)")
    parser.add_argument("--ignore-daemonsets", action="store_true",
                        help="accepted for kubectl's sake: Bosun has no DaemonSets")
    parser.add_argument("--grace-period", type=int, default=-1,
                        help="seconds each pod gets to stop (default: the pod's own)")
    parser.add_argument("--timeout", type=_value, default="0",
                        help="give up after this long (90s, 5m; default 0: no limit)")


_ARGUMENTS = {"apply": _apply, "get": _get, "describe": _describe, "delete": _delete,
              "scale": _scale, "logs": _logs, "cordon": _nodes, "uncordon": _nodes,
              "drain": _drain}
