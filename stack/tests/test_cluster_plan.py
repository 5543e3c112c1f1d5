"""The cluster stack's plan (cluster_plan.py): its processes, ports and config files, as
the processes read them. Pure: nothing is started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stack import addresses, cluster_plan, supervisor
from stack.addresses import StackError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def ports(monkeypatch):
    """Every port variable at its own value, so that a port read from the wrong one shows."""
    for offset, variable in enumerate(addresses.PORT_DEFAULTS):
        monkeypatch.setenv(variable, str(31000 + offset))
    return {variable: 31000 + offset for offset, variable in enumerate(addresses.PORT_DEFAULTS)}


def test_the_roles_are_a_proxy_the_coordinators_and_one_node_of_each_kind():
    assert [p.name for p in cluster_plan.processes()] == [
        "etcd", "kafka", "milvus-coordinators", "milvus-querynode", "milvus-datanode", "milvus-indexnode", "milvus-proxy",
    ]
    args = {role.name: role.milvus_args for role in cluster_plan.MILVUS_ROLES}
    assert args["milvus-coordinators"] == ("mixture", "-rootcoord=true", "-querycoord=true", "-datacoord=true", "-indexcoord=true")
    assert args["milvus-querynode"] == ("querynode",) and args["milvus-proxy"] == ("proxy",)


def test_every_process_has_ports_of_its_own_and_every_cluster_port_is_used():
    used = [variable for process in cluster_plan.processes() for variable in process.ports]
    assert len(used) == len(set(used))
    # The Jaeger ports are Jaeger's; every other variable belongs to one process of the cluster.
    jaeger = {"STACK_OTLP_GRPC_PORT", "STACK_OTLP_HTTP_PORT", "STACK_JAEGER_QUERY_PORT", "STACK_JAEGER_GRPC_PORT",
              "STACK_TAIL_QUERY_PORT", "STACK_TAIL_GRPC_PORT", "STACK_SPAN_COUNTS_PORT"}
    assert set(used) == set(addresses.PORT_DEFAULTS) - jaeger


def test_the_proxy_answers_where_the_standalone_does(ports):
    proxy = cluster_plan.MILVUS_ROLES[-1]
    assert cluster_plan.health_url(proxy) == f"http://127.0.0.1:{ports['STACK_MILVUS_HEALTH_PORT']}/healthz"
    assert cluster_plan.ports_of(proxy)[ports["STACK_MILVUS_PORT"]] == "Milvus gRPC (proxy)"


def test_each_role_gets_its_own_metrics_port_and_the_binarys_libraries(ports):
    bin_dir, run_dir = Path("/x/bin"), Path("/x/run")
    metrics = set()
    for role in cluster_plan.MILVUS_ROLES:
        env = cluster_plan.milvus_env({"LD_LIBRARY_PATH": "/usr/lib", "TRACE_EXPORTER": "otlp"}, role, bin_dir, run_dir)
        assert env["LD_LIBRARY_PATH"] == "/x/bin:/usr/lib" and env["TRACE_EXPORTER"] == "otlp"
        metrics.add(env["METRICS_PORT"])
    assert len(metrics) == len(cluster_plan.MILVUS_ROLES)  # else every role binds 9091


def test_milvus_yaml_takes_etcd_kafka_and_one_shared_local_storage(ports):
    config = yaml.safe_load(cluster_plan.milvus_yaml(Path("/data/storage")))
    assert config["etcd"]["endpoints"] == f"127.0.0.1:{ports['STACK_ETCD_PORT']}"
    assert config["etcd"]["use"]["embed"] is False
    assert config["mq"]["type"] == "kafka"  # rocksmq is refused outside standalone
    assert config["kafka"]["brokerList"] == f"127.0.0.1:{ports['STACK_KAFKA_PORT']}"
    assert config["common"]["storageType"] == "local" and config["localStorage"]["path"] == "/data/storage"
    assert config["common"]["security"]["authorizationEnabled"] is True
    assert config["proxy"]["port"] == ports["STACK_MILVUS_PORT"]
    assert config["queryNode"] == {"ip": "127.0.0.1", "port": ports["STACK_MILVUS_QUERYNODE_PORT"]}
    assert config["rootCoord"]["port"] == ports["STACK_MILVUS_ROOTCOORD_PORT"]


def test_kafka_is_one_kraft_node_on_loopback_formatted_without_standalone(ports):
    properties = dict(line.split("=", 1) for line in cluster_plan.kafka_properties(Path("/k")).splitlines())
    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == f"1@127.0.0.1:{ports['STACK_KAFKA_CONTROLLER_PORT']}"
    assert properties["listeners"].startswith(f"PLAINTEXT://127.0.0.1:{ports['STACK_KAFKA_PORT']},")
    assert properties["log.dirs"] == "/k"
    cluster_id = cluster_plan.kafka_cluster_id()
    fmt, run = cluster_plan.kafka_commands("/libs/*", Path("/k.properties"), cluster_id)
    assert fmt[-6:] == ["format", "--ignore-formatted", "-t", cluster_id, "-c", "/k.properties"]
    assert "--standalone" not in fmt  # refused with static controller.quorum.voters
    assert run[-2:] == ["kafka.Kafka", "/k.properties"]
    assert len(cluster_id) == 22 and cluster_id != cluster_plan.kafka_cluster_id()
    assert not any(cluster_plan.kafka_cluster_id().startswith("-") for _ in range(500))  # else an option to the tool


def test_etcd_listens_on_loopback_only(ports):
    command = cluster_plan.etcd_command(Path("/usr/bin/etcd"), Path("/e"))
    urls = [arg.split("=", 1)[1] for arg in command if arg.startswith("--listen-")]
    assert urls == [f"http://127.0.0.1:{ports['STACK_ETCD_PORT']}", f"http://127.0.0.1:{ports['STACK_ETCD_PEER_PORT']}"]


@pytest.mark.parametrize(
    ("mode", "backend", "message"),
    [
        ("distributed", "embedded", "unknown STACK_MILVUS_MODE='distributed'; use 'standalone' (default) or 'cluster'"),
        ("cluster", "docker", "STACK_MILVUS_MODE=cluster runs with the embedded backend only, not STACK_BACKEND=docker"),
    ],
)
def test_a_mode_the_stack_cannot_run_is_one_line(monkeypatch, mode, backend, message):
    monkeypatch.setenv("STACK_MILVUS_MODE", mode)
    monkeypatch.setenv("STACK_BACKEND", backend)
    with pytest.raises(StackError) as raised:
        supervisor.topology()
    assert str(raised.value) == message


def test_the_mode_chooses_the_topology(monkeypatch):
    monkeypatch.delenv("STACK_BACKEND", raising=False)
    monkeypatch.delenv("STACK_MILVUS_MODE", raising=False)
    assert supervisor.topology() is supervisor.embedded
    monkeypatch.setenv("STACK_MILVUS_MODE", "cluster")
    assert supervisor.topology() is supervisor.cluster


@pytest.mark.parametrize(("running", "wanted"), [("milvus", "cluster"), ("milvus-proxy", "standalone")])
def test_up_in_one_mode_while_the_other_runs_is_one_line(monkeypatch, running, wanted):
    pgid = os.getpgid(0)  # a live process group: this test's own, standing for the other mode's Milvus
    monkeypatch.setattr(supervisor.state, "load", lambda: {running: {"pgid": pgid}})
    monkeypatch.delenv("STACK_BACKEND", raising=False)
    monkeypatch.setenv("STACK_MILVUS_MODE", wanted)
    with pytest.raises(StackError) as raised:
        supervisor.check_same_mode()
    other = "standalone" if wanted == "cluster" else "cluster"
    assert str(raised.value) == (
        f"this stack runs Milvus {other} (process group {pgid}); `python stack/stackctl.py down` first, "
        f"then `up` with STACK_MILVUS_MODE={wanted}"
    )
    monkeypatch.setenv("STACK_MILVUS_MODE", other)
    supervisor.check_same_mode()  # the same mode: reused, no error


@pytest.mark.parametrize(("mode", "folder"), [("cluster", "milvus-cluster"), ("standalone", "")])
def test_each_mode_keeps_its_own_milvus_secrets(tmp_path, mode, folder):
    # Each Milvus has its own root password: one mode's must not overwrite the other's.
    code = "from stack import addresses as a; print(a.MILVUS_TOKEN_FILE); print(a.MILVUS_ROOT_PASSWORD_FILE)"
    env = {"PATH": "/usr/bin:/bin", "STACK_STATE_DIR": str(tmp_path), "STACK_MILVUS_MODE": mode}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    base = tmp_path / folder if folder else tmp_path
    assert out.stdout.splitlines() == [str(base / "milvus-token"), str(base / "milvus-root-password")]
