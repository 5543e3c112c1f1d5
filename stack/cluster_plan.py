"""What the cluster stack (STACK_MILVUS_MODE=cluster) runs, as data: its processes in start
order, their command lines, environments and ports, and the files they read (Milvus's
YAML, Kafka's server.properties). Pure: no process is started and no file written here
(backends/cluster.py does both), so every line of it is unit-tested.

Milvus 2.3.5's roles refuse rocksmq outside standalone, so the cluster runs a one-node
KRaft Kafka; its metadata lives in a real etcd; its segments in one local directory that
every role shares (`common.storageType: local`: one machine, no object store needed).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from stack.addresses import HOST, port

KAFKA_HEAP = "-Xmx512m"


@dataclass(frozen=True)
class Process:
    """One process of the cluster: `name` in state.json and logs/NAME.log."""

    name: str
    ports: dict[str, str]  # STACK_*_PORT variable -> what listens there
    health_path: str = ""  # HTTP GET on the first port that answers 200 when ready; "" = TCP connect
    health_body: bytes | None = None
    milvus_args: tuple[str, ...] = ()  # `milvus run ...` for a Milvus role

    def health_port_variable(self) -> str:
        return next(iter(self.ports))


def milvus_role(name: str, args: tuple[str, ...], metrics: str, grpc: dict[str, str]) -> Process:
    return Process(
        f"milvus-{name}",
        {metrics: f"Milvus {name} health/metrics", **grpc},
        "/healthz",
        b"OK",
        args,
    )


# Milvus's roles: the coordinators in one process (`mixture`), one node of each kind, and
# the proxy, which the clients call; each its own metrics port (METRICS_PORT), or all bind 9091.
MILVUS_ROLES = (
    milvus_role(
        "coordinators",
        ("mixture", "-rootcoord=true", "-querycoord=true", "-datacoord=true", "-indexcoord=true"),
        "STACK_MILVUS_COORDINATORS_METRICS_PORT",
        {
            "STACK_MILVUS_ROOTCOORD_PORT": "Milvus root coordinator",
            "STACK_MILVUS_QUERYCOORD_PORT": "Milvus query coordinator",
            "STACK_MILVUS_DATACOORD_PORT": "Milvus data coordinator",
            "STACK_MILVUS_INDEXCOORD_PORT": "Milvus index coordinator",
        },
    ),
    milvus_role("querynode", ("querynode",), "STACK_MILVUS_QUERYNODE_METRICS_PORT", {"STACK_MILVUS_QUERYNODE_PORT": "Milvus query node"}),
    milvus_role("datanode", ("datanode",), "STACK_MILVUS_DATANODE_METRICS_PORT", {"STACK_MILVUS_DATANODE_PORT": "Milvus data node"}),
    milvus_role("indexnode", ("indexnode",), "STACK_MILVUS_INDEXNODE_METRICS_PORT", {"STACK_MILVUS_INDEXNODE_PORT": "Milvus index node"}),
    milvus_role(
        "proxy",
        ("proxy",),
        "STACK_MILVUS_HEALTH_PORT",
        {"STACK_MILVUS_PORT": "Milvus gRPC (proxy)", "STACK_MILVUS_PROXY_INTERNAL_PORT": "Milvus proxy internal"},
    ),
)

ETCD = Process("etcd", {"STACK_ETCD_PORT": "etcd client", "STACK_ETCD_PEER_PORT": "etcd peer"}, "/health", b'"health":"true"')
KAFKA = Process("kafka", {"STACK_KAFKA_PORT": "Kafka broker", "STACK_KAFKA_CONTROLLER_PORT": "Kafka controller"})
BACKING = (ETCD, KAFKA)  # started before Milvus's roles, which need both from their first second


def processes() -> tuple[Process, ...]:
    """Every process of the cluster's Milvus side, in start order."""
    return BACKING + MILVUS_ROLES


def ports_of(process: Process) -> dict[int, str]:
    """Its ports as components.Component has them: number -> role."""
    return {port(variable): role for variable, role in process.ports.items()}


def health_url(process: Process) -> str:
    return f"http://{HOST}:{port(process.health_port_variable())}{process.health_path}"


def etcd_command(binary: Path, data_dir: Path) -> list[str]:
    client, peer = f"http://{HOST}:{port('STACK_ETCD_PORT')}", f"http://{HOST}:{port('STACK_ETCD_PEER_PORT')}"
    return [
        str(binary),
        "--name=default",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=default={peer}",
    ]


def kafka_properties(log_dir: Path) -> str:
    """One node that is broker and its own KRaft controller, on 127.0.0.1."""
    broker, controller = f"{HOST}:{port('STACK_KAFKA_PORT')}", f"{HOST}:{port('STACK_KAFKA_CONTROLLER_PORT')}"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{controller}",
        "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def kafka_cluster_id() -> str:
    """A random Kafka cluster id: a UUID in URL-safe base64, never starting with "-", which
    the format command would take for an option (Kafka's own random-uuid avoids it too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_commands(classpath: str, properties: Path, cluster_id: str) -> tuple[list[str], list[str]]:
    """(format the storage once, run the broker); no --standalone: the voters are static."""
    java = ["java", KAFKA_HEAP, "-cp", classpath]
    fmt = [*java, "kafka.tools.StorageTool", "format", "--ignore-formatted", "-t", cluster_id, "-c", str(properties)]
    return fmt, [*java, "kafka.Kafka", str(properties)]


def milvus_yaml(storage_dir: Path) -> str:
    """Milvus's configs/milvus.yaml for every role: what differs from its built-in defaults."""
    roles = {
        "rootCoord": "STACK_MILVUS_ROOTCOORD_PORT",
        "queryCoord": "STACK_MILVUS_QUERYCOORD_PORT",
        "dataCoord": "STACK_MILVUS_DATACOORD_PORT",
        "indexCoord": "STACK_MILVUS_INDEXCOORD_PORT",
        "queryNode": "STACK_MILVUS_QUERYNODE_PORT",
        "dataNode": "STACK_MILVUS_DATANODE_PORT",
        "indexNode": "STACK_MILVUS_INDEXNODE_PORT",
    }
    lines = [
        "etcd:",
        f"  endpoints: {HOST}:{port('STACK_ETCD_PORT')}",
        "  rootPath: by-dev",  # milvus_sessions.py's SESSION_PREFIX
        "  use:",
        "    embed: false",
        "mq:",
        "  type: kafka",
        "kafka:",
        f"  brokerList: {HOST}:{port('STACK_KAFKA_PORT')}",
        "common:",
        "  storageType: local",
        "  security:",
        "    authorizationEnabled: true",
        "localStorage:",
        f"  path: {storage_dir}",
        "proxy:",
        f"  ip: {HOST}",
        f"  port: {port('STACK_MILVUS_PORT')}",
        f"  internalPort: {port('STACK_MILVUS_PROXY_INTERNAL_PORT')}",
    ]
    for section, variable in roles.items():
        lines += [f"{section}:", f"  ip: {HOST}", f"  port: {port(variable)}"]
    return "\n".join(lines) + "\n"


def milvus_env(base: dict, process: Process, bin_dir: Path, run_dir: Path) -> dict:
    """A role's environment: the stack's (trace settings included), its libraries, its metrics port."""
    return {
        **base,
        "LD_LIBRARY_PATH": ":".join(filter(None, [str(bin_dir), base.get("LD_LIBRARY_PATH", "")])),
        "METRICS_PORT": str(port(process.health_port_variable())),
        "MILVUS_RUN_DIR": str(run_dir),
    }
