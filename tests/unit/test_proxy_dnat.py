"""iptables mode: the DNAT chains rendered for one minion, and the plan that keeps them in place."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bosun.proxy import ApplyIptables, HookChains, InstallHaproxy, ProxyMinion, render
from bosun.proxy.dnat import chain_name, dnat_hooks, probability
from bosun.proxy.iptables import unhook_rules
from bosun.proxy.mode import (
    DnatConfig,
    RemoveChains,
    StopHaproxy,
    plan_minion,
    render_minion,
)
from bosun.proxy.saved import bosun_chains, with_chains_deleted
from tests.unit.test_proxy_render import _shuffled, _world, endpoints, port, service, subset

MINION = ProxyMinion("minion-1", ("10.200.0.11",), proxy_mode="iptables")
THREE = ["10.244.1.5", "10.244.2.5", "10.244.3.5"]
DOCKER_NAT = [":DOCKER - [0:0]", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
              "-A POSTROUTING -s 10.244.1.0/24 ! -d 10.244.0.0/16 -j MASQUERADE"]
DOCKER_FILTER = [":DOCKER-USER - [0:0]", "-A FORWARD -j DOCKER-USER",
                 "-A DOCKER-USER -s 10.244.0.0/16 -d 10.244.0.0/16 -j ACCEPT"]


def dnat(services, endpoint_list, minion=MINION) -> DnatConfig:
    config = render_minion(services, endpoint_list, minion)
    assert isinstance(config, DnatConfig)
    return config


def chains(text: str) -> dict[str, list[str]]:
    """chain -> its rules without `-A CHAIN` and comments, as plain strings."""
    found: dict[str, list[str]] = {}
    for (_, chain), rules in bosun_chains(text).items():
        found[chain] = [" ".join(_uncommented(rule[2:])) for rule in rules]
    return found


def _uncommented(words: tuple[str, ...]) -> list[str]:
    out, skip = [], 0
    for i, word in enumerate(words):
        if skip:
            skip -= 1
        elif words[i:i + 2] == ("-m", "comment"):
            skip = 3
        else:
            out.append(word)
    return out


def svc(key: str) -> str:
    return chain_name("SVC", key)


def sep(key: str, target: str) -> str:
    return chain_name("SEP", f"{key} {target}")


def as_saved(rules: str | None, hooks=None, counters: str = "[3:180]") -> str:
    """What `iptables-save -t nat; iptables-save -t filter` prints on a minion holding `rules`
    and the jumps `hooks` (HookRules; default: all of iptables mode's): chains sorted by name,
    rules grouped by chain."""
    hooks = dnat_hooks() if hooks is None else hooks
    out = []
    for table, builtin, docker in (("nat", ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
                                    DOCKER_NAT),
                                   ("filter", ["INPUT", "FORWARD", "OUTPUT"], DOCKER_FILTER)):
        ours = {chain: rule_list for (t, chain), rule_list in bosun_chains(rules or "").items()
                if t == table}
        out += [f"*{table}", *(f":{b} ACCEPT [0:0]" for b in builtin),
                *sorted([*(f":{c} - {counters}" for c in ours), docker[0]]),
                *(shlex.join(h.saved()) for h in hooks if h.table == table), *docker[1:],
                *(shlex.join(rule) for c in sorted(ours) for rule in ours[c]), "COMMIT"]
    return "\n".join(out) + "\n"


# --- what is rendered ---

def test_clusterip_spreads_over_every_pod_at_random():
    config = dnat([service("web", [port(80, target=8080)])],
                  [endpoints("web", [subset(THREE, [("", 8080)])])])
    key = "default/web:80"
    found = chains(config.iptables)
    assert found["BOSUN-SERVICES"] == [f"-d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j {svc(key)}"]
    peps = [sep(key, f"{ip}:8080") for ip in THREE]
    assert found[svc(key)] == [
        f"-m statistic --mode random --probability 0.33333333349 -j {peps[0]}",
        f"-m statistic --mode random --probability 0.50000000000 -j {peps[1]}",
        f"-j {peps[2]}"]
    for ip, chain in zip(THREE, peps, strict=True):
        assert found[chain] == [f"-s {ip}/32 -j BOSUN-MARK-MASQ",
                                f"-p tcp -j DNAT --to-destination {ip}:8080"]
    assert found["BOSUN-NO-ENDPOINTS"] == []
    assert config.skipped == []


def test_several_ports_and_named_target_ports_get_chains_of_their_own():
    config = dnat([service("web", [port(80, "http", target="web"), port(443, "https")])],
                  [endpoints("web", [subset(["10.244.1.5"], [("http", 9376), ("https", 8443)]),
                                     subset(["10.244.2.5"], [("http", 9377)])])])
    found = chains(config.iptables)
    http, https = "default/web:http", "default/web:https"
    assert found["BOSUN-SERVICES"] == [
        f"-d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j {svc(http)}",
        f"-d 10.0.0.10/32 -p tcp -m tcp --dport 443 -j {svc(https)}"]
    # each pod's own number for the named port, as the endpoints controller resolved it
    assert found[sep(http, "10.244.1.5:9376")][-1].endswith("10.244.1.5:9376")
    assert found[sep(http, "10.244.2.5:9377")][-1].endswith("10.244.2.5:9377")
    assert found[svc(https)] == [f"-j {sep(https, '10.244.1.5:8443')}"]


def test_node_ports_come_after_every_vip_and_are_masqueraded():
    config = dnat([service("web", [port(80, node_port=30080)], kind="NodePort"),
                   service("api", [port(30080)], ip="10.0.0.11")],
                  [endpoints("web", [subset(["10.244.1.5"], [("", 80)])]),
                   endpoints("api", [subset(["10.244.2.5"], [("", 30080)])])])
    web = svc("default/web:80")
    assert chains(config.iptables)["BOSUN-SERVICES"] == [
        f"-d 10.0.0.11/32 -p tcp -m tcp --dport 30080 -j {svc('default/api:30080')}",
        f"-d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j {web}",
        "-p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j BOSUN-MARK-MASQ",
        f"-p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j {web}"]
    found = chains(config.iptables)
    assert found["BOSUN-MARK-MASQ"] == ["-j CONNMARK --set-xmark 0x8000/0x8000"]
    assert found["BOSUN-POSTROUTING"] == ["-m connmark --mark 0x8000/0x8000 -j MASQUERADE"]
    assert found["BOSUN-FORWARD"] == ["-m connmark --mark 0x8000/0x8000 -j ACCEPT"]


def test_client_ip_affinity_checks_each_pods_recent_list_first():
    config = dnat([service("redis", [port(6379)], affinity="ClientIP")],
                  [endpoints("redis", [subset(THREE[:2], [("", 6379)])])])
    key = "default/redis:6379"
    a, b = (sep(key, f"{ip}:6379") for ip in THREE[:2])
    found = chains(config.iptables)
    assert found[svc(key)] == [
        f"-m recent --rcheck --seconds 10800 --reap --name {a} --mask 255.255.255.255 "
        f"--rsource -j {a}",
        f"-m recent --rcheck --seconds 10800 --reap --name {b} --mask 255.255.255.255 "
        f"--rsource -j {b}",
        f"-m statistic --mode random --probability 0.50000000000 -j {a}",
        f"-j {b}"]
    assert found[a][-1] == (f"-p tcp -m recent --set --name {a} --mask 255.255.255.255 "
                            "--rsource -j DNAT --to-destination 10.244.1.5:6379")


def test_a_port_without_ready_pods_is_rejected_not_forwarded():
    config = dnat([service("web", [port(80, node_port=30080)], kind="NodePort")],
                  [endpoints("web", [subset([], [("", 80)], not_ready=["10.244.1.5"])])])
    found = chains(config.iptables)
    assert found["BOSUN-SERVICES"] == []
    assert not any(c.startswith(("BOSUN-SVC-", "BOSUN-SEP-")) for c in found)
    assert found["BOSUN-NO-ENDPOINTS"] == [
        "-d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset",
        "-p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30080 "
        "-j REJECT --reject-with tcp-reset"]
    assert bosun_chains(config.iptables)[("filter", "BOSUN-NO-ENDPOINTS")]


def test_a_node_port_taken_on_the_minion_is_left_out_and_reported():
    services = [service("web", [port(80, node_port=30099)], kind="NodePort")]
    eps = [endpoints("web", [subset(["10.244.1.5"], [("", 80)])])]
    taken = ProxyMinion("minion-1", proxy_mode="iptables", taken_ports=frozenset({30099}))
    config = dnat(services, eps, taken)
    assert "30099" not in config.iptables
    assert config.skipped == ["default/web:80: nodePort 30099 is taken on minion-1 by another "
                              "process; the node port is not served there"]


def test_udp_is_reported_without_naming_haproxy():
    config = dnat([service("dns", [port(53, "dns", protocol="UDP")])], [])
    assert config.skipped == [
        "default/dns:dns/UDP: Bosun's service proxy carries TCP only; not proxied"]


@pytest.mark.parametrize("remaining, printed", [
    (2, "0.50000000000"), (3, "0.33333333349"), (4, "0.25000000000"), (5, "0.20000000019"),
    (7, "0.14285714272")])
def test_probabilities_are_printed_as_iptables_save_prints_them(remaining, printed):
    # 2, 3 and 5 as iptables-save v1.8.9 printed them back in the lab
    assert probability(remaining) == printed


def test_chain_names_are_stable_distinct_and_short():
    names = {chain_name("SVC", f"default/web-{i}:80") for i in range(1000)}
    assert len(names) == 1000
    assert chain_name("SVC", "a/b:c") == chain_name("SVC", "a/b:c") != chain_name("SEP", "a/b:c")
    assert all(re.fullmatch(r"BOSUN-SVC-[0-9A-F]{16}", n) for n in names)


def test_whatever_a_name_holds_stays_inside_its_comment():
    config = dnat([service('we"b\nx', [port(80)])], [])
    lines = [line for line in config.iptables.splitlines() if "we_b_x" in line]
    assert lines == ['-A BOSUN-NO-ENDPOINTS -d 10.0.0.10/32 -p tcp -m comment --comment '
                     '"default/we_b_x:80 has no endpoints" -m tcp --dport 80 '
                     '-j REJECT --reject-with tcp-reset']


@settings(max_examples=150, deadline=None)
@given(_world(), st.randoms(use_true_random=False))
def test_output_is_byte_identical_in_any_order(world, rnd):
    first = dnat(*world)
    second = dnat(*_shuffled(world, rnd))
    assert second.iptables.encode() == first.iptables.encode()
    assert second == first


def test_haproxy_mode_renders_as_before():
    services = [service("web", [port(80)])]
    haproxy = ProxyMinion("minion-1", ("10.200.0.11",))
    assert render_minion(services, [], haproxy) == render(services, [], haproxy)


# --- the plan ---

SERVICES = [service("web", [port(80, node_port=30080)], kind="NodePort"),
            service("redis", [port(6379)], ip="10.0.0.11", affinity="ClientIP")]
ENDPOINTS = [endpoints("web", [subset(THREE, [("", 80)])]),
             endpoints("redis", [subset(THREE[:1], [("", 6379)])])]
RENDERED = dnat(SERVICES, ENDPOINTS)
SMALLER = dnat(SERVICES[:1], ENDPOINTS)


def test_nothing_to_do_when_the_minion_has_what_is_rendered():
    assert plan_minion(RENDERED, None, as_saved(RENDERED.iptables), haproxy_running=False) == []
    unquoted = as_saved(RENDERED.iptables).replace('"', "")
    assert plan_minion(RENDERED, None, unquoted, haproxy_running=False) == []


def test_fresh_minion_gets_rules_then_every_hook():
    actions = plan_minion(RENDERED, None, as_saved(None, hooks=[]), haproxy_running=False)
    assert actions == [ApplyIptables(RENDERED.iptables), HookChains(tuple(dnat_hooks()))]
    assert plan_minion(RENDERED, None, None, haproxy_running=False) == actions


def test_a_changed_rule_order_is_applied_again():
    text = as_saved(RENDERED.iptables)
    svc_lines = [line for line in text.splitlines() if line.startswith(
        f"-A {svc('default/web:80')} ")]
    swapped = text.replace(svc_lines[0], "@").replace(svc_lines[1], svc_lines[0]).replace(
        "@", svc_lines[1])
    assert plan_minion(RENDERED, None, swapped, haproxy_running=False) == [
        ApplyIptables(RENDERED.iptables)]


def test_chains_of_a_removed_service_are_deleted_in_the_same_restore():
    actions = plan_minion(SMALLER, None, as_saved(RENDERED.iptables), haproxy_running=False)
    stale = sorted({c for (t, c) in bosun_chains(RENDERED.iptables)}
                   - {c for (t, c) in bosun_chains(SMALLER.iptables)})
    redis = "default/redis:6379"
    assert stale == sorted([svc(redis), sep(redis, "10.244.1.5:6379")])
    assert actions == [ApplyIptables(with_chains_deleted(SMALLER.iptables,
                                                         [("nat", c) for c in stale]))]
    text = actions[0].text
    nat = text.split("*nat\n")[1].split("COMMIT")[0]
    for chain in stale:  # declared (flushed) at the top, deleted at the end of the nat table
        assert nat.startswith(f":{chain} - [0:0]") or f"\n:{chain} - [0:0]\n" in nat
        assert nat.rstrip().endswith(f"-X {chain}") or f"-X {chain}\n" in nat
        assert nat.index(f":{chain} ") < nat.index(f"-X {chain}")
    assert text.count("-X ") == 2 and "*filter" in text


def test_missing_hooks_only_are_added():
    hooks = dnat_hooks()
    text = as_saved(RENDERED.iptables, hooks=hooks[:2] + hooks[3:])  # POSTROUTING's gone
    assert plan_minion(RENDERED, None, text, haproxy_running=False) == [
        HookChains((dnat_hooks()[2],))]
    assert dnat_hooks()[2].check_argv()[:5] == ["iptables", "-w", "-t", "nat", "-C"]
    assert dnat_hooks()[3].insert_argv() == [
        "iptables", "-w", "-t", "filter", "-I", "INPUT", "1", "-m", "comment", "--comment",
        "bosun-no-endpoints", "-j", "BOSUN-NO-ENDPOINTS"]


@pytest.mark.parametrize("config, running", [
    ("global\n", True), ("global\n", False), (None, True)],
    ids=["running-with-config", "config-left", "running-without-config"])
def test_switching_to_iptables_mode_stops_haproxy_after_the_rules(config, running):
    haproxy_mode = render(SERVICES, ENDPOINTS, ProxyMinion("minion-1"))
    from tests.unit.test_proxy_plan import saved
    text = saved(haproxy_mode.iptables)  # haproxy mode's REDIRECT chain and hooks
    actions = plan_minion(RENDERED, config, text, haproxy_running=running)
    assert [type(a) for a in actions] == [ApplyIptables, HookChains, StopHaproxy]
    assert actions[0] == ApplyIptables(RENDERED.iptables)  # BOSUN-SERVICES is replaced
    assert len(actions[1].rules) == len(dnat_hooks()) - 2  # nat's two are there already


def test_switching_back_to_haproxy_mode_removes_every_dnat_chain_and_hook():
    haproxy_mode = render(SERVICES, ENDPOINTS, ProxyMinion("minion-1"))
    current = as_saved(RENDERED.iptables)
    actions = plan_minion(haproxy_mode, None, current, haproxy_running=False)
    assert actions[:2] == [InstallHaproxy(haproxy_mode.haproxy),
                           ApplyIptables(haproxy_mode.iptables)]
    assert isinstance(actions[2], RemoveChains) and len(actions) == 3
    argv = [list(a) for a in actions[2].argv]
    deleted = {(a[3], a[5]) for a in argv if a[4] == "-X"}
    assert deleted == {k for k in bosun_chains(current) if k != ("nat", "BOSUN-SERVICES")}
    hooks = [a for a in argv if a[4] == "-D"]
    assert sorted((a[3], a[5], a[-1]) for a in hooks) == sorted(
        (h.table, h.chain, h.spec[-1]) for h in dnat_hooks()[2:])
    assert argv.index(hooks[-1]) < min(i for i, a in enumerate(argv) if a[4] == "-F")
    # and once they are gone, haproxy mode plans nothing more for them
    from tests.unit.test_proxy_plan import saved
    assert plan_minion(haproxy_mode, haproxy_mode.haproxy, saved(haproxy_mode.iptables),
                       haproxy_running=True) == []


def test_unhook_removes_both_modes_chains_in_both_tables():
    argv = unhook_rules(as_saved(RENDERED.iptables))
    assert {(a[3], a[5]) for a in argv if a[4] == "-X"} == set(bosun_chains(RENDERED.iptables))
    assert len([a for a in argv if a[4] == "-D"]) == len(dnat_hooks())
    assert all("DOCKER" not in " ".join(a) for a in argv)
    assert unhook_rules(as_saved(None, hooks=[])) == []
