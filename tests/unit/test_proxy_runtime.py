"""Endpoints-only changes through haproxy's runtime API: reading what runs, what to send, plan."""

from __future__ import annotations

import pytest

from bosun.proxy import InstallHaproxy, ProxyMinion, StartHaproxy, UpdateServers, plan, render
from bosun.proxy.haproxy import (
    config_servers,
    read_servers_state,
    runtime_argv,
    runtime_input,
    runtime_refusals,
    server_commands,
    without_servers,
)
from bosun.proxy.plan import WriteHaproxyCfg
from tests.unit.test_proxy_render import endpoints, port, service, subset

WEB = "default.web.http"
REDIS = "default.redis.6379"
SERVICES = [service("web", [port(80, "http")]), service("redis", [port(6379)], ip="10.0.0.11")]


def rendered(*web_ips: str, services=SERVICES, ports=None):
    eps = [endpoints("web", [subset(list(web_ips), [("http", 8080)])])] if web_ips else []
    return render(services, eps, ProxyMinion("minion-1"), ports)


OLD = rendered("10.244.1.5", "10.244.2.6")
NEW = rendered("10.244.1.5", "10.244.3.7", ports=OLD.local_ports)

# `show servers state` as haproxy 2.6 answers it (captured), trimmed to two backends.
HEADER = ("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
          "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
          "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
          "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
          "srv_agent_port")


def row(backend: str, name: str, admin: int = 0) -> str:
    ip, port_ = name.split(":")
    return f"2 {backend} 1 {name} {ip} 2 {admin} 1 1 0 1 0 2 0 0 0 0 - {port_} - 0 0 - - 0"


def state(*rows: str) -> str:
    return "\n".join(["1", HEADER, *rows, "", ""])


RUNNING_OLD = read_servers_state(state(row(WEB, "10.244.1.5:8080"), row(WEB, "10.244.2.6:8080")))


def test_servers_state_is_read_by_column_name():
    text = state(row(WEB, "10.244.1.5:8080"), row(WEB, "10.244.2.6:8080", admin=1),
                 row(REDIS, "10.244.9.9:6379", admin=0x20))
    assert read_servers_state(text) == {
        WEB: {"10.244.1.5:8080": True, "10.244.2.6:8080": False},
        REDIS: {"10.244.9.9:6379": False},
    }


@pytest.mark.parametrize("text", ["", "\n", "Unknown command.\n", "1\n", "2\n" + HEADER + "\n"],
                         ids=["no-socat", "blank", "refused", "no-header", "other-version"])
def test_anything_but_a_servers_state_is_unknown(text):
    assert read_servers_state(text) is None


def test_backends_without_servers_are_not_listed_by_haproxy():
    assert read_servers_state(state()) == {}


def test_config_servers_and_the_config_without_them():
    assert config_servers(OLD.haproxy) == {
        WEB: {"10.244.1.5:8080": "10.244.1.5:8080", "10.244.2.6:8080": "10.244.2.6:8080"},
        REDIS: {}}
    assert without_servers(OLD.haproxy) == without_servers(NEW.haproxy)
    assert without_servers(OLD.haproxy) != without_servers(rendered().haproxy.replace(
        "balance roundrobin", "balance leastconn"))
    assert "server 10.244" not in without_servers(OLD.haproxy)
    assert "server 10.244" in OLD.haproxy


def test_commands_add_enable_and_remove():
    commands = server_commands(RUNNING_OLD | {REDIS: {}}, config_servers(NEW.haproxy))
    assert commands == [
        f"add server {WEB}/10.244.3.7:8080 10.244.3.7:8080",
        f"enable server {WEB}/10.244.3.7:8080",
        f"set server {WEB}/10.244.2.6:8080 state maint",
        f"del server {WEB}/10.244.2.6:8080",
    ]


def test_a_server_left_in_maintenance_is_made_ready_again_or_left_alone():
    kept = {WEB: {"10.244.1.5:8080": True, "10.244.2.6:8080": False,
                  "10.244.8.8:8080": False}, REDIS: {}}
    assert server_commands(kept, config_servers(OLD.haproxy)) == [
        f"set server {WEB}/10.244.2.6:8080 state ready"]


def test_nothing_to_send_when_the_running_servers_are_the_wanted_ones():
    assert server_commands(RUNNING_OLD | {REDIS: {}}, config_servers(OLD.haproxy)) == []


def test_a_listener_without_servers_gets_its_first_at_runtime():
    # haproxy's `show servers state` does not list a listener that has no server at all
    wanted = config_servers(rendered("10.244.1.5", services=[
        service("web", [port(80, "http")])]).haproxy)
    assert server_commands({}, wanted) == [
        f"add server {WEB}/10.244.1.5:8080 10.244.1.5:8080",
        f"enable server {WEB}/10.244.1.5:8080"]


def test_runtime_input_is_one_line_and_the_answers_are_checked():
    assert runtime_input(["enable server a/b", "del server a/c"]) == (
        b"enable server a/b; del server a/c\n")
    assert runtime_argv()[-1] == "unix-connect:/var/run/haproxy.sock"
    fine = ("New server registered.\n\n\n\nServer deleted.\n\n"
            "Server still has connections attached to it, cannot remove it.\n\n")
    assert runtime_refusals(fine) == []
    assert runtime_refusals("\nNo such server.\n\nUnknown command.\n") == [
        "No such server.", "Unknown command."]


RUNNING_ALL = RUNNING_OLD | {REDIS: {}}


@pytest.mark.parametrize("current, running, expected", [
    (OLD.haproxy, RUNNING_ALL, [UpdateServers((
        f"add server {WEB}/10.244.3.7:8080 10.244.3.7:8080",
        f"enable server {WEB}/10.244.3.7:8080",
        f"set server {WEB}/10.244.2.6:8080 state maint",
        f"del server {WEB}/10.244.2.6:8080"), NEW.haproxy)]),
    (NEW.haproxy, RUNNING_ALL, [UpdateServers((
        f"add server {WEB}/10.244.3.7:8080 10.244.3.7:8080",
        f"enable server {WEB}/10.244.3.7:8080",
        f"set server {WEB}/10.244.2.6:8080 state maint",
        f"del server {WEB}/10.244.2.6:8080"), NEW.haproxy)]),
    (OLD.haproxy, None, [InstallHaproxy(NEW.haproxy)]),
    (OLD.haproxy, RUNNING_OLD, [UpdateServers((
        f"add server {WEB}/10.244.3.7:8080 10.244.3.7:8080",
        f"enable server {WEB}/10.244.3.7:8080",
        f"set server {WEB}/10.244.2.6:8080 state maint",
        f"del server {WEB}/10.244.2.6:8080"), NEW.haproxy)]),
    (OLD.haproxy, {WEB: {"10.244.1.5:8080": True, "10.244.3.7:8080": True}, REDIS: {}}, [
        WriteHaproxyCfg(NEW.haproxy)]),
    (NEW.haproxy.replace("pod default/pod-10-244-3-7", "pod default/renamed"),
     {WEB: {"10.244.1.5:8080": True, "10.244.3.7:8080": True}, REDIS: {}}, [
         WriteHaproxyCfg(NEW.haproxy)]),
    (NEW.haproxy, {WEB: {"10.244.1.5:8080": True, "10.244.3.7:8080": True}, REDIS: {}}, []),
    (None, RUNNING_ALL, [InstallHaproxy(NEW.haproxy)]),
], ids=["pods-changed", "runtime-behind-the-file", "servers-unknown-restarts",
        "a-listener-without-servers-is-not-listed", "written-file-lags", "only-a-comment-differs",
        "all-in-place", "no-config-file"])
def test_plan_sends_pod_changes_to_the_running_haproxy(current, running, expected):
    actions = plan(NEW, current, None, haproxy_running=True, running_servers=running)
    assert [a for a in actions if isinstance(a, (InstallHaproxy, UpdateServers,
                                                 WriteHaproxyCfg, StartHaproxy))] == expected


def test_a_new_service_restarts_haproxy_even_when_servers_are_known():
    more = rendered("10.244.1.5", "10.244.2.6", services=[
        *SERVICES, service("api", [port(443)], ip="10.0.0.12")], ports=OLD.local_ports)
    actions = plan(more, OLD.haproxy, None, haproxy_running=True, running_servers=RUNNING_ALL)
    assert actions[0] == InstallHaproxy(more.haproxy)


def test_a_stopped_haproxy_is_started_whatever_its_servers():
    assert plan(NEW, NEW.haproxy, None, haproxy_running=False,
                running_servers=None)[0] == StartHaproxy()
    assert plan(NEW, OLD.haproxy, None, haproxy_running=False,
                running_servers=None)[0] == InstallHaproxy(NEW.haproxy)
