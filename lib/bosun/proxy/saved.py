"""Bosun's chains as `iptables-save` prints them (or as rendered): read, compared, removed.

Both proxy modes own chains named `BOSUN-*` in the nat and filter tables, entered by jumps from
the built-in chains. `bosun_chains` reads every such chain out of a save (or a rendered
`iptables-restore` input, which is written in the same form) so the two compare equal once
applied; `removal_argv` builds the iptables commands that take chains and the jumps into them
away again. Pure: the text comes in, argv lists go out.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection

PREFIX = "BOSUN-"
TABLES = ("nat", "filter")

Chain = tuple[str, str]  # (table, chain name)


def table_lines(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(table, words) of every chain declaration and rule of the nat and filter tables.

    A declaration keeps its name only (`:BOSUN-X`): policy and counters vary between save and
    render. Quoting does not matter (the words are shell-split), the order of rules does.
    """
    table, result = None, []
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table in TABLES and line.startswith(("-A ", ":")):
            words = _words(line)
            result.append((table, words[:1] if words[0].startswith(":") else words))
    return result


def bosun_chains(text: str) -> dict[Chain, list[tuple[str, ...]]]:
    """Every `BOSUN-*` chain of the nat and filter tables in `text` with its rules, in order.

    iptables-save lists the chains of a table sorted by name, a render in its own order: only
    each chain's own rules are ordered, so the dict compares equal for both.
    """
    chains: dict[Chain, list[tuple[str, ...]]] = {}
    for table, words in table_lines(text):
        if words[0].startswith(f":{PREFIX}"):
            chains.setdefault((table, words[0][1:]), [])
    for table, words in table_lines(text):
        if words[0] == "-A" and (table, words[1]) in chains:
            chains[(table, words[1])].append(words)
    return chains


def removal_argv(text: str, keep: Collection[Chain] = ()) -> list[list[str]]:
    """argv lists removing every `BOSUN-*` chain in `text` (an iptables-save) but `keep`.

    First each jump into one of them from a chain that is not Bosun's (built-in or the user's;
    duplicates too), then every such chain is flushed, then deleted: each must succeed, and []
    means nothing is left to remove. Jumps from Bosun's own chains go with their flush; a kept
    chain still jumping into a removed one must be rewritten before (ApplyIptables comes first).
    """
    doomed = [chain for chain in bosun_chains(text) if chain not in keep]
    argv = [[*iptables_argv(table), "-D", *words[1:]] for table, words in table_lines(text)
            if words[0] == "-A" and not words[1].startswith(PREFIX)
            and words[-2] == "-j" and (table, words[-1]) in doomed]
    argv += [[*iptables_argv(table), "-F", chain] for table, chain in doomed]
    argv += [[*iptables_argv(table), "-X", chain] for table, chain in doomed]
    return argv


def with_chains_deleted(rules: str, stale: Collection[Chain]) -> str:
    """`rules` (an iptables-restore input) that also deletes the chains `stale`.

    Each is declared first (which flushes it, dropping its jumps into other stale chains) and
    deleted before its table's COMMIT, so the whole change stays one atomic restore, as
    kube-proxy does it. A table of `stale` missing from `rules` gets a section of its own.
    """
    if not stale:
        return rules
    lines, table, seen = [], None, set()
    for line in rules.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            seen.add(table)
            lines += [line, *(f":{c} - [0:0]" for t, c in sorted(stale) if t == table)]
            continue
        if line == "COMMIT":
            lines += [f"-X {c}" for t, c in sorted(stale) if t == table]
        lines.append(line)
    for missing in sorted({t for t, _ in stale} - seen):
        chains = [c for t, c in sorted(stale) if t == missing]
        lines += [f"*{missing}", *(f":{c} - [0:0]" for c in chains),
                  *(f"-X {c}" for c in chains), "COMMIT"]
    return "\n".join(lines) + "\n"


def iptables_argv(table: str) -> list[str]:
    # -w: wait for the xtables lock instead of failing while Docker changes its own rules.
    return ["iptables", "-w", "-t", table]


def _words(line: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(line))
    except ValueError:  # unbalanced quotes: not ours, keep it as one unmatched word
        return (line,)
