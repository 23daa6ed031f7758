"""Quoting argv for the remote shell, and what a finished command's result reports."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bosun.minion.commands import CommandResult, remote_command_line
from bosun.minion.errors import CommandTimeout, RemoteCommandError


@pytest.mark.parametrize(
    "argv, line",
    [
        (["docker", "ps"], "docker ps"),
        (["echo", "$(touch /tmp/x)"], "echo '$(touch /tmp/x)'"),
        (["rm", "; rm -rf /"], "rm '; rm -rf /'"),
        (["echo", "it's"], "echo 'it'\"'\"'s'"),
        (["echo", "a\nb"], "echo 'a\nb'"),
        (["ls", "*"], "ls '*'"),
        (["printf", ""], "printf ''"),
        (["echo", "`id`"], "echo '`id`'"),
    ],
    ids=["plain", "subst", "semicolon", "quote", "newline", "glob", "empty", "backtick"],
)
def test_each_argument_becomes_one_quoted_word(argv: list[str], line: str):
    assert remote_command_line(argv) == line


@given(st.lists(st.text(alphabet=st.characters(exclude_characters="\0")), min_size=1))
def test_shell_splitting_gives_back_exactly_the_argv(argv: list[str]):
    assert shlex.split(remote_command_line(argv)) == argv


@pytest.mark.parametrize(
    "argv, error",
    [("rm -rf /tmp/x", TypeError), (b"ls", TypeError), (["ls", 3], TypeError),
     ([], ValueError), (["echo", "a\0b"], ValueError)],
    ids=["string-not-list", "bytes", "non-str-element", "empty", "nul-byte"],
)
def test_anything_but_a_list_of_strings_is_refused(argv, error: type[Exception]):
    with pytest.raises(error):
        remote_command_line(argv)


def test_result_check_passes_success_through():
    ok = CommandResult("minion-1", ("true",), 0, b"", b"")
    assert ok.check() is ok and ok.ok


def test_failed_command_error_carries_host_argv_code_and_stderr():
    stderr = b"ls: warning\nls: /nope: No such file\n"
    result = CommandResult("minion-1", ("ls", "/nope"), 2, b"", stderr)
    with pytest.raises(RemoteCommandError) as caught:
        result.check()
    error = caught.value
    assert (error.host, error.argv, error.exit_code) == ("minion-1", ["ls", "/nope"], 2)
    assert error.stderr == result.stderr
    assert str(error) == "minion-1: ['ls', '/nope'] exited 2: ls: /nope: No such file"


def test_failed_command_without_stderr_says_so():
    error = RemoteCommandError("minion-3", ["false"], 1, b"")
    assert str(error) == "minion-3: ['false'] exited 1: (no stderr)"


def test_timeout_names_host_command_and_limit():
    error = CommandTimeout("minion-2", ["sleep", "9"], 1.5)
    assert str(error) == (
        "minion-2: ['sleep', '9'] did not finish within 1.5 s (it may still be running there)"
    )
    assert error.delay == 1.5
