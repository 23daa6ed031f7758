"""What every command shares: the client from the kubeconfig, the namespace, the output streams,
and kubectl's way of reporting errors (one `error: ...`, or each error on its own line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from bosun.api.client import Client, ClientError, ConnectError, load_kubeconfig
from bosun.errors import BosunError, PermanentError


class CtlError(PermanentError):
    """A usage error or a failure kubectl reports as `error: ...`."""


@dataclass
class Session:
    """One command's connection to the API and where it prints."""

    client: Client
    namespace: str
    namespace_given: bool  # -n was passed (a file's own namespace must then agree)
    out: TextIO
    err: TextIO

    def warn(self, text: str) -> None:
        print(f"Warning: {text}", file=self.err)

    def fail(self, errors: Sequence[BaseException]) -> int:
        """Print errors as kubectl does at the end of a command; 1 if there were any."""
        for error in errors:
            print(error_text(error, alone=len(errors) == 1), file=self.err)
        return 1 if errors else 0


Command = Callable[[Session, argparse.Namespace], int]


def error_text(error: BaseException, alone: bool = True) -> str:
    """kubectl's words for an error: the server's Status as `Error from server (...)`, others
    after `error: ` when alone (kubectl lists several without the prefix)."""
    if isinstance(error, ClientError):
        return error.kubectl_text()
    if isinstance(error, ConnectError):
        return str(error)
    return f"error: {error}" if alone else str(error)


def run(command: Command, args: argparse.Namespace, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Run a command with a session from args (--kubeconfig, --context, -n); its exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        config = load_kubeconfig(getattr(args, "kubeconfig", None),
                                 getattr(args, "context", None))
        given = getattr(args, "namespace", None)
        with Client(config, warn=lambda text: print(f"Warning: {text}", file=err)) as client:
            session = Session(client, given or config.namespace, bool(given), out, err)
            return command(session, args)
    except BosunError as error:
        print(error_text(error), file=err)
        return 1
    except BrokenPipeError:  # `| head`: the reader has seen enough
        return 0
