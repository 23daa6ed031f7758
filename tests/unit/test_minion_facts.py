"""Parsing a minion's facts from captured output of FACTS_ARGV and dockerd's /version."""

from __future__ import annotations

import pytest

from bosun.minion.errors import FactsError
from bosun.minion.facts import MinionFacts, parse_facts

# Captured from a lab minion (Debian 12), FACTS_ARGV's stdout as is.
CAPTURED = """\
hostname=minion-2
kernel=6.18.44-fc-v782
architecture=x86_64
cpus=2
memory_kib=24683656
boot_id=95bc8937-a04b-4af7-874f-8eed016711c0
machine_id=906f38d1ce39265657ebb05849ffc23b
os_release_pretty_name="Debian GNU/Linux 12 (bookworm)"
"""
DOCKER = {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "Os": "linux"}


def test_captured_output():
    assert parse_facts("minion-2", CAPTURED, DOCKER) == MinionFacts(
        hostname="minion-2",
        cpus=2,
        memory_bytes=24683656 * 1024,
        kernel="6.18.44-fc-v782",
        os_name="Debian GNU/Linux 12 (bookworm)",
        architecture="x86_64",
        machine_id="906f38d1ce39265657ebb05849ffc23b",
        boot_id="95bc8937-a04b-4af7-874f-8eed016711c0",
        docker_version="20.10.24+dfsg1",
        docker_api_version="1.41",
    )


def without(key: str) -> str:
    return "".join(line for line in CAPTURED.splitlines(True) if not line.startswith(key + "="))


@pytest.mark.parametrize(
    "output, message",
    [
        (without("hostname"), "minion-2: facts: no hostname in the minion's answer"),
        (without("boot_id"), "minion-2: facts: no boot_id in the minion's answer"),
        (without("memory_kib"), "minion-2: facts: no memory_kib in the minion's answer"),
        (
            CAPTURED.replace("cpus=2", "cpus=two"),
            "minion-2: facts: cpus='two' is not a whole number",
        ),
        (CAPTURED.replace("cpus=2", "cpus="), "minion-2: facts: no cpus in the minion's answer"),
        ("", "minion-2: facts: no hostname in the minion's answer"),
    ],
    ids=["no-hostname", "no-boot-id", "no-memory", "cpus-not-number", "cpus-empty", "empty"],
)
def test_missing_or_malformed_facts_name_the_host_and_fact(output: str, message: str):
    with pytest.raises(FactsError) as caught:
        parse_facts("minion-2", output, DOCKER)
    assert str(caught.value) == message


def test_optional_facts_default():
    output = without("machine_id").replace("os_release_pretty_name", "unrelated")
    facts = parse_facts("minion-2", output, DOCKER)
    assert (facts.machine_id, facts.os_name) == ("", "Linux")


@pytest.mark.parametrize(
    "line, name",
    [("os_release_pretty_name=Alpine", "Alpine"),
     ("os_release_pretty_name='Fedora Linux 40'", "Fedora Linux 40"),
     ('os_release_pretty_name="Ubuntu 24.04 \\"noble\\""', 'Ubuntu 24.04 "noble"'),
     ('os_release_pretty_name="unbalanced', '"unbalanced')],
    ids=["bare", "single-quoted", "escaped-quotes", "broken-quoting-kept"],
)
def test_os_release_quoting(line: str, name: str):
    output = CAPTURED.replace('os_release_pretty_name="Debian GNU/Linux 12 (bookworm)"', line)
    assert parse_facts("m", output, DOCKER).os_name == name


def test_values_may_contain_equals_signs():
    output = CAPTURED.replace("kernel=6.18.44-fc-v782", "kernel=6.1=custom")
    assert parse_facts("m", output, DOCKER).kernel == "6.1=custom"


def test_docker_version_is_required():
    with pytest.raises(FactsError, match="minion-2: facts: dockerd's /version answer has no"):
        parse_facts("minion-2", CAPTURED, {"ApiVersion": "1.41"})
