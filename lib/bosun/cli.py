"""Argument parsing for orchestrator.py: each subcommand is a thin call into the library."""

from __future__ import annotations

import argparse
import json
import sys

from bosun import __version__
from bosun.errors import BosunError


def _inventory(args: argparse.Namespace) -> int:
    from bosun.inventory import load_inventory

    inventory = load_inventory(args.inventory)
    if args.host:
        print(json.dumps(inventory.host_vars(args.host), indent=4, sort_keys=True))
    else:
        print(json.dumps(inventory.to_ansible_list(), indent=4, sort_keys=True))
    return 0


def _lab(args: argparse.Namespace) -> int:
    from bosun.lab import commands

    return commands.run(args)


def _serve(args: argparse.Namespace) -> int:
    from bosun.api import serve

    return serve.main(args)


def _demo(args: argparse.Namespace) -> int:
    from bosun import demo

    return demo.run(args)


def _reconcile(args: argparse.Namespace) -> int:
    from bosun import reconcile

    if not args.once:
        raise SystemExit("reconcile: only --once is supported (run `serve` for a loop)")
    return reconcile.run(args)


def _image(args: argparse.Namespace) -> int:
    if args.image_command == "build":
        from bosun import imagebuild

        return imagebuild.main(args)
    from bosun import images

    return images.main(args)


def _default_inventory() -> str | None:
    from bosun.bootstrap import ROOT

    lab = ROOT / ".lab" / "inventory.ini"
    return str(lab) if lab.exists() else None


def _default_images_dir() -> str:
    from bosun.bootstrap import ROOT

    return str(ROOT / "manifests" / "images")


def _ctl(args: argparse.Namespace) -> int:
    import importlib

    from bosun.ctl.session import run

    return run(importlib.import_module(f"bosun.ctl.{args.command}").command, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("setup", help="install Debian packages and the Python environment")
    demo = sub.add_parser("demo", help="set up, bring up the local lab, run the example app")
    from bosun.demo import add_arguments as add_demo_arguments

    add_demo_arguments(demo)
    demo.set_defaults(func=_demo)
    sub.add_parser("test", help="set up with test tools and run lint and the test suite")
    sub.add_parser("version", help="print Bosun's version")

    inv = sub.add_parser("inventory", help="show an inventory as Bosun reads it")
    inv.add_argument("-i", "--inventory", required=True, help="inventory file (INI or YAML)")
    mode = inv.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true", help="print all hosts and groups as JSON")
    mode.add_argument("--host", help="print one host's variables as JSON")
    inv.set_defaults(func=_inventory)

    serve = sub.add_parser("serve", help="run the API server (TLS and tokens by default)")
    from bosun.api.options import add_arguments

    add_arguments(serve)
    serve.set_defaults(func=_serve)

    rec = sub.add_parser("reconcile", help="one full pass of every loop, for cron")
    rec.add_argument("--once", action="store_true", help="run one pass and exit")
    rec.add_argument("--check", action="store_true",
                     help="print what a pass would do per minion; change nothing")
    rec.add_argument("-i", "--inventory", default=_default_inventory(),
                     help="inventory (default: the lab's)")
    rec.add_argument("--etcd", default="http://127.0.0.1:23790", help="etcd URL")
    rec.set_defaults(func=_reconcile)

    image = sub.add_parser("image", help="build images and ship them to minions (no registry)")
    image_sub = image.add_subparsers(dest="image_command", required=True, metavar="ACTION")
    push = image_sub.add_parser("push", help="load an image into the minions that lack it")
    push.add_argument("image", help="repo:tag")
    push.add_argument("-i", "--inventory", default=_default_inventory(),
                      help="inventory (default: the lab's)")
    push.add_argument("--node", action="append", help="only this minion (repeatable)")
    source = push.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-file", help="a `docker save` tar holding the image")
    source.add_argument("--from-node", help="a minion that has the image")
    build = image_sub.add_parser(
        "build", help="build the example images (manifests/images) and put them on the minions")
    build.add_argument("names", nargs="*", metavar="NAME",
                       help="image folders to build (default: all)")
    build.add_argument("-i", "--inventory", default=_default_inventory(),
                       help="inventory (default: the lab's)")
    build.add_argument("--images-dir", default=_default_images_dir(),
                       help="where the image folders are (default: manifests/images)")
    image.set_defaults(func=_image)

    lab = sub.add_parser("lab", help="the local multi-host lab (minions as namespaces)")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    up = lab_sub.add_parser("up", help="bring up the lab (idempotent)")
    up.add_argument("--minions", type=int, default=3, help="number of minions (1-9, default 3)")
    up.add_argument("--index", type=int, default=0,
                    help="lab number 0-9: a second lab (the tests') gets its own networks")
    lab_sub.add_parser("down", help="remove everything the lab made")
    lab_sub.add_parser("status", help="reach every minion over SSH and show its facts")
    for action in lab_sub.choices.values():
        action.add_argument("--state-dir", default=None, help="lab folder (default: .lab)")
    lab.set_defaults(func=_lab)

    from bosun.ctl.options import add_commands

    add_commands(sub, _ctl)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"bosun {__version__}")
        return 0
    try:
        return args.func(args)
    except (BosunError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
