"""spec: what Docker is asked to create for a pod's infra and app containers."""

from __future__ import annotations

import copy

import pytest

from bosun.kubelet import spec as kspec
from bosun.kubelet.model import (
    LABEL_ATTEMPT,
    LABEL_BACKOFF,
    LABEL_CONTAINER,
    LABEL_GRACE,
    LABEL_HASH,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
)
from bosun.kubelet.spec import (
    ContainerCreate,
    SpecError,
    container_create,
    expand,
    infra_create,
    service_environment,
    spec_hash,
)
from tests.unit.test_kubelet_world import container, pod

WEB = pod("web-abc", [container("web")], grace=12)
UID = WEB["metadata"]["uid"]


def create(of: dict, name: str = "web", services=(), **kwargs) -> ContainerCreate:
    return container_create(of, name, 3, "infra123", list(services), "minion-1", **kwargs)


def one(**fields) -> dict:
    """A pod with one container `web` carrying `fields`."""
    volumes = fields.pop("volumes", None)
    extra = {"volumes": volumes} if volumes is not None else {}
    return pod("web-abc", [container("web", **fields)], uid=UID, **extra)


def service(name: str, ip: str | None = "10.0.0.11", ports=((6379, None, "TCP"),),
            namespace: str = "default") -> dict:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": ip, "ports": [
                {"port": p, "protocol": proto, **({"name": n} if n else {})}
                for p, n, proto in ports]}}


# -- command and args ----------------------------------------------------------------------------

@pytest.mark.parametrize("command, args, entrypoint, cmd", [
    (None, None, None, None),
    (["/bin/app"], None, ["/bin/app"], []),
    (["/bin/app", "-v"], ["x", "y"], ["/bin/app", "-v"], ["x", "y"]),
    (None, ["x", "y"], None, ["x", "y"]),
    ([], [], None, None),
], ids=["neither-image-decides", "command-drops-image-cmd", "command-and-args",
        "args-keep-image-entrypoint", "empty-lists-are-absent"])
def test_command_and_args(command, args, entrypoint, cmd):
    fields = {k: v for k, v in (("command", command), ("args", args)) if v is not None}
    made = create(one(**fields))
    assert (made.entrypoint, made.cmd) == (entrypoint, cmd)


HOSTILE = ["$(touch /tmp/x)", "; rm -rf /", "it's \"quoted\"", "line1\nline2", "`id`", "a b\tc",
           "$HOME", "${HOME}", "\\n", "100%", "ünï", "--flag=$(("]


def test_manifest_values_arrive_byte_identical():
    env = [{"name": f"V{i}", "value": value} for i, value in enumerate(HOSTILE)]
    made = create(one(command=HOSTILE[:6], args=HOSTILE[6:], env=env,
                      workingDir="/srv/it's here"))
    assert made.entrypoint == HOSTILE[:6]
    assert made.cmd == HOSTILE[6:]
    assert made.env == [f"V{i}={value}" for i, value in enumerate(HOSTILE)]
    assert made.working_dir == "/srv/it's here"
    assert all(isinstance(part, str) for part in made.entrypoint + made.cmd + made.env)


# -- $(VAR) expansion ----------------------------------------------------------------------------

VARS = {"A": "alpha", "B": "$(A)", "EMPTY": ""}


@pytest.mark.parametrize("text, expected", [
    ("$(A)", "alpha"),
    ("x-$(A)-y", "x-alpha-y"),
    ("$(A)$(A)", "alphaalpha"),
    ("$(B)", "$(A)"),  # one level only: a value is not expanded again
    ("$(EMPTY)", ""),
    ("$(UNKNOWN)", "$(UNKNOWN)"),
    ("$$(A)", "$(A)"),
    ("$$$(A)", "$alpha"),
    ("$$", "$"),
    ("$", "$"),
    ("a$", "a$"),
    ("$A", "$A"),
    ("$(A", "$(A"),
    ("$(", "$("),
    ("$()", "$()"),
    ("$(A$(A))", "$(A$(A))"),
    ("$(touch /tmp/x)", "$(touch /tmp/x)"),
    ("no vars", "no vars"),
], ids=lambda v: repr(v))
def test_expand(text, expected):
    assert expand(text, VARS.get) == expected


def env_of(made: ContainerCreate) -> dict[str, str]:
    return dict(item.split("=", 1) for item in made.env)


def test_env_expands_earlier_and_service_variables_only():
    made = create(one(env=[
        {"name": "HOST", "value": "$(REDIS_SERVICE_HOST):$(REDIS_SERVICE_PORT)"},
        {"name": "EARLY", "value": "<$(LATE)>"},
        {"name": "LATE", "value": "late"},
        {"name": "BOTH", "value": "$(HOST)/$(LATE)"},
        {"name": "ESCAPED", "value": "$$(HOST)"},
    ]), services=[service("redis")])
    env = env_of(made)
    assert env["HOST"] == "10.0.0.11:6379"
    assert env["EARLY"] == "<$(LATE)>"
    assert env["BOTH"] == "10.0.0.11:6379/late"
    assert env["ESCAPED"] == "$(HOST)"


def test_command_and_args_see_every_variable():
    made = create(one(command=["echo", "$(LATE)", "$$(LATE)"], args=["$(REDIS_SERVICE_HOST)",
                                                                    "$(NOPE)"],
                      env=[{"name": "LATE", "value": "v"}]), services=[service("redis")])
    assert made.entrypoint == ["echo", "v", "$(LATE)"]
    assert made.cmd == ["10.0.0.11", "$(NOPE)"]


def test_env_order_and_overrides():
    made = create(one(env=[{"name": "X", "value": "1"}, {"name": "REDIS_SERVICE_HOST",
                                                          "value": "mine"},
                           {"name": "X", "value": "2"}]), services=[service("redis")])
    assert made.env[:2] == ["X=2", "REDIS_SERVICE_HOST=mine"]
    assert made.env.count("REDIS_SERVICE_HOST=mine") == 1
    assert "REDIS_SERVICE_HOST=10.0.0.11" not in made.env


def downward(path: str) -> dict:
    return {"name": "V", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


@pytest.mark.parametrize("path, expected", [
    ("metadata.name", "web-abc"),
    ("metadata.namespace", "default"),
    ("metadata.uid", UID),
    ("metadata.labels['app']", "$(not-expanded)"),
    ("metadata.labels['missing']", ""),
    ("metadata.annotations['team']", "a; b"),
    ("spec.nodeName", "minion-1"),
    ("spec.serviceAccountName", "robot"),
    ("status.podIP", "172.17.0.5"),
    ("status.podIPs", "172.17.0.5"),
    ("status.hostIP", "192.168.1.10"),
    ("status.hostIPs", "192.168.1.10"),
])
def test_field_refs(path, expected):
    of = one(env=[downward(path)])
    of["metadata"]["labels"] = {"app": "$(not-expanded)"}
    of["metadata"]["annotations"] = {"team": "a; b"}
    of["spec"]["serviceAccountName"] = "robot"
    made = create(of, pod_ip="172.17.0.5", host_ip="192.168.1.10")
    assert env_of(made)["V"] == expected


def resource_ref(resource: str, divisor: str | None = None, container_name: str | None = None):
    ref = {"resource": resource, **({"divisor": divisor} if divisor else {}),
           **({"containerName": container_name} if container_name else {})}
    return {"name": "V", "valueFrom": {"resourceFieldRef": ref}}


@pytest.mark.parametrize("resources, ref, expected", [
    ({"limits": {"cpu": "500m"}}, resource_ref("limits.cpu"), "1"),
    ({"limits": {"cpu": "1500m"}}, resource_ref("limits.cpu", "1m"), "1500"),
    ({"limits": {"cpu": "2"}}, resource_ref("limits.cpu", "0"), "2"),
    ({"limits": {"memory": "64Mi"}}, resource_ref("limits.memory"), "67108864"),
    ({"limits": {"memory": "64Mi"}}, resource_ref("limits.memory", "1Mi"), "64"),
    ({"limits": {"memory": "100M"}}, resource_ref("limits.memory", "1Mi"), "96"),
    ({"requests": {"memory": "1Gi"}}, resource_ref("requests.memory", "1Gi"), "1"),
    ({}, resource_ref("requests.cpu"), "0"),
    ({}, resource_ref("limits.cpu", "1m"), "4000"),  # the minion's allocatable
    ({}, resource_ref("limits.memory", "1Mi"), "8192"),
], ids=["cpu-rounded-up", "cpu-millis", "divisor-0-means-1", "memory-bytes", "memory-mi",
        "memory-rounded-up", "request", "no-request-is-0", "no-limit-cpu-is-allocatable",
        "no-limit-memory-is-allocatable"])
def test_resource_field_refs(resources, ref, expected):
    made = create(one(env=[ref], resources=resources),
                  allocatable={"cpu": "4", "memory": "8Gi"})
    assert env_of(made)["V"] == expected


def test_resource_field_ref_of_another_container():
    of = pod("web-abc", [container("web", env=[resource_ref("limits.memory", "1Mi", "side")]),
                         container("side", resources={"limits": {"memory": "32Mi"}})], uid=UID)
    assert env_of(create(of))["V"] == "32"


# -- service variables ---------------------------------------------------------------------------

def test_service_variables_as_kubernetes_makes_them():
    redis = service("redis-master", ports=((6379, "redis", "TCP"), (9121, "metrics", "TCP"),
                                           (53, None, "UDP")))
    env = service_environment(WEB, [redis])
    assert list(env.items()) == [
        ("REDIS_MASTER_SERVICE_HOST", "10.0.0.11"),
        ("REDIS_MASTER_SERVICE_PORT", "6379"),
        ("REDIS_MASTER_SERVICE_PORT_REDIS", "6379"),
        ("REDIS_MASTER_SERVICE_PORT_METRICS", "9121"),
        ("REDIS_MASTER_PORT", "tcp://10.0.0.11:6379"),
        ("REDIS_MASTER_PORT_6379_TCP", "tcp://10.0.0.11:6379"),
        ("REDIS_MASTER_PORT_6379_TCP_PROTO", "tcp"),
        ("REDIS_MASTER_PORT_6379_TCP_PORT", "6379"),
        ("REDIS_MASTER_PORT_6379_TCP_ADDR", "10.0.0.11"),
        ("REDIS_MASTER_PORT_9121_TCP", "tcp://10.0.0.11:9121"),
        ("REDIS_MASTER_PORT_9121_TCP_PROTO", "tcp"),
        ("REDIS_MASTER_PORT_9121_TCP_PORT", "9121"),
        ("REDIS_MASTER_PORT_9121_TCP_ADDR", "10.0.0.11"),
        ("REDIS_MASTER_PORT_53_UDP", "udp://10.0.0.11:53"),
        ("REDIS_MASTER_PORT_53_UDP_PROTO", "udp"),
        ("REDIS_MASTER_PORT_53_UDP_PORT", "53"),
        ("REDIS_MASTER_PORT_53_UDP_ADDR", "10.0.0.11"),
    ]


@pytest.mark.parametrize("services, links, expected_hosts", [
    ([service("web"), service("db", "10.0.0.12")], True,
     {"DB_SERVICE_HOST": "10.0.0.12", "WEB_SERVICE_HOST": "10.0.0.11"}),
    ([service("headless", "None"), service("pending", None), service("blank", "")], True, {}),
    ([service("other", namespace="prod")], True, {}),
    ([service("kubernetes", "10.0.0.1", ((443, "https", "TCP"),))], False,
     {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}),
    ([service("web")], False, {}),
    ([service("kubernetes", "10.0.0.1", namespace="default"),
      service("kubernetes", "10.9.9.9", namespace="team")], True,
     {"KUBERNETES_SERVICE_HOST": "10.9.9.9"}),
], ids=["namespace-services", "no-cluster-ip-no-variables", "other-namespace-ignored",
        "master-service-even-without-links", "links-disabled", "namespace-shadows-master"])
def test_which_services(services, links, expected_hosts):
    of = pod("web", namespace="team" if "team" in str(services) else "default",
             enableServiceLinks=links)
    env = service_environment(of, services)
    assert {k: v for k, v in env.items() if k.endswith("_SERVICE_HOST")} == expected_hosts


def test_ipv6_service_address_is_bracketed():
    env = service_environment(WEB, [service("v6", "fd00::10", ((80, None, "TCP"),))])
    assert env["V6_PORT"] == "tcp://[fd00::10]:80"
    assert env["V6_PORT_80_TCP_ADDR"] == "fd00::10"


# -- volumes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("volume, mount, binds, tmpfs", [
    ({"name": "data", "emptyDir": {}}, {"name": "data", "mountPath": "/data"},
     [f"/var/lib/bosun/pods/{UID}/volumes/data:/data"], {}),
    ({"name": "data", "emptyDir": {}}, {"name": "data", "mountPath": "/data", "readOnly": True,
                                        "subPath": "a/b"},
     [f"/var/lib/bosun/pods/{UID}/volumes/data/a/b:/data:ro"], {}),
    ({"name": "logs", "hostPath": {"path": "/var/log"}},
     {"name": "logs", "mountPath": "/host/log", "readOnly": True}, ["/var/log:/host/log:ro"], {}),
    ({"name": "cache", "emptyDir": {"medium": "Memory"}},
     {"name": "cache", "mountPath": "/cache"}, [], {"/cache": "rw,exec"}),
    ({"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
     {"name": "cache", "mountPath": "/cache", "readOnly": True}, [],
     {"/cache": "ro,exec,size=67108864"}),
], ids=["empty-dir", "empty-dir-sub-path-read-only", "host-path-read-only", "memory-tmpfs",
        "memory-tmpfs-size-limit"])
def test_volumes(volume, mount, binds, tmpfs):
    made = create(one(volumeMounts=[mount], volumes=[volume]))
    assert (made.binds, made.tmpfs) == (binds, tmpfs)


@pytest.mark.parametrize("volume, mount", [
    ({"name": "x", "hostPath": {"path": "/a:/etc"}}, {"name": "x", "mountPath": "/x"}),
    ({"name": "x", "emptyDir": {}}, {"name": "x", "mountPath": "/x:rw"}),
    ({"name": "x", "emptyDir": {}}, {"name": "x", "mountPath": "/x", "subPath": "../../etc"}),
    ({"name": "x", "emptyDir": {}}, {"name": "x", "mountPath": "/x", "subPath": "/etc"}),
    ({"name": "x", "emptyDir": {}}, {"name": "y", "mountPath": "/x"}),
    ({"name": "x", "nfs": {"server": "s", "path": "/"}}, {"name": "x", "mountPath": "/x"}),
], ids=["colon-in-host-path", "colon-in-mount-path", "sub-path-escapes", "sub-path-absolute",
        "unknown-volume", "unsupported-volume-type"])
def test_unusable_mounts_are_refused(volume, mount):
    with pytest.raises(SpecError):
        create(one(volumeMounts=[mount], volumes=[volume]))


# -- resources -----------------------------------------------------------------------------------

@pytest.mark.parametrize("resources, mem_limit, nano_cpus, cpu_shares", [
    ({}, None, None, 2),
    ({"limits": {"memory": "64Mi"}}, 67108864, None, 2),
    ({"limits": {"cpu": "500m"}}, None, 500_000_000, 512),
    ({"limits": {"cpu": "2"}, "requests": {"cpu": "250m"}}, None, 2_000_000_000, 256),
    ({"requests": {"cpu": "1m"}}, None, None, 2),
    ({"limits": {"cpu": "1m"}}, None, 10_000_000, 2),
    ({"requests": {"cpu": "1000"}}, None, None, 262144),
    ({"limits": {"cpu": "0"}}, None, None, 2),
], ids=["best-effort", "memory", "cpu-limit-is-request", "limit-and-request", "tiny-request",
        "tiny-limit-raised-to-10m", "huge-request-capped", "zero-limit-is-none"])
def test_resources(resources, mem_limit, nano_cpus, cpu_shares):
    made = create(one(resources=resources))
    assert (made.mem_limit, made.nano_cpus, made.cpu_shares) == (mem_limit, nano_cpus, cpu_shares)


# -- identity: names, labels, joining the infra container ----------------------------------------

def test_app_container_identity():
    made = create(WEB, backoff=20.0)
    assert made.name == f"bosun_web_web-abc_default_{UID[:8]}_3"
    assert made.labels == {
        LABEL_POD_UID: UID, LABEL_POD_NAME: "web-abc", LABEL_POD_NAMESPACE: "default",
        LABEL_CONTAINER: "web", LABEL_HASH: spec_hash(WEB, "web"), LABEL_ATTEMPT: "3",
        LABEL_GRACE: "12", LABEL_BACKOFF: "20"}
    assert (made.network_mode, made.ipc_mode) == ("container:infra123", "container:infra123")
    assert made.hostname is None  # Docker refuses one with a container network mode
    assert made.stop_timeout == 12
    assert made.port_bindings == {} and made.exposed_ports == []
    assert LABEL_BACKOFF not in create(WEB).labels  # the plan then derives it from the attempt


def test_unknown_container_is_refused():
    with pytest.raises(SpecError):
        create(WEB, "nope")


def test_infra_container():
    of = pod("web-abc", [container("web", ports=[{"containerPort": 80, "hostPort": 8080},
                                                  {"containerPort": 9000}]),
                         container("dns", ports=[{"containerPort": 53, "protocol": "UDP",
                                                  "hostPort": 53, "hostIP": "10.1.2.3"}])],
             uid=UID, grace=12)
    made = infra_create(of, attempt=2)
    assert made.name == f"bosun_POD_web-abc_default_{UID[:8]}_2"
    assert made.image == kspec.INFRA_IMAGE
    assert made.entrypoint == ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & "
                                           "wait $!; done"]
    assert made.hostname == "web-abc"
    assert made.network_mode == "bridge" and made.ipc_mode == "shareable"
    assert made.port_bindings == {"80/tcp": [("", 8080)], "53/udp": [("10.1.2.3", 53)]}
    assert made.exposed_ports == [(80, "tcp"), (53, "udp")]
    assert made.labels[LABEL_CONTAINER] == "POD" and made.labels[LABEL_ATTEMPT] == "2"
    assert made.labels[LABEL_GRACE] == "12" and made.stop_timeout == 12
    assert made.env == [] and made.binds == []
    assert infra_create(of, "other/pause:3").image == "other/pause:3"


def test_infra_hostname_from_spec_and_truncated():
    assert infra_create(pod("web", hostname="box")).hostname == "box"
    long_name = "a" * 62 + "-b" + "c" * 10
    assert infra_create(pod(long_name)).hostname == "a" * 62


def test_infra_with_host_network():
    of = pod("web", [container("web", ports=[{"containerPort": 80}])], hostNetwork=True)
    made = infra_create(of)
    assert made.network_mode == "host" and made.hostname is None
    assert made.port_bindings == {} and made.exposed_ports == []
    assert LABEL_BACKOFF not in create(WEB).labels  # the plan then derives it from the attempt


# -- the spec hash -------------------------------------------------------------------------------

def test_spec_hash():
    two = pod("two", [container("web"), container("cache", "redis:7")])
    again = copy.deepcopy(two)
    again["spec"]["containers"][0] = dict(reversed(list(again["spec"]["containers"][0].items())))
    assert spec_hash(two, "web") == spec_hash(again, "web")  # key order does not matter
    assert len(spec_hash(two, "web")) == 16
    changed = copy.deepcopy(two)
    changed["spec"]["containers"][1]["image"] = "redis:7.2"
    assert spec_hash(changed, "cache") != spec_hash(two, "cache")
    assert spec_hash(changed, "web") == spec_hash(two, "web")  # the other container is untouched
    relabelled = copy.deepcopy(two)
    relabelled["metadata"]["labels"] = {"new": "label"}
    relabelled["status"] = {"phase": "Running"}
    assert spec_hash(relabelled, "web") == spec_hash(two, "web")
