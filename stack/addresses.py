"""Where the stack listens, where its files are, and where the clients and the suite find
it: every value from the environment, with this machine's stack as the default.

Standard library only. Importing reads only STACK_STATE_DIR and STACK_MILVUS_MODE; a port is read where it
is asked for, so a bad STACK_*_PORT raises StackError there and never exits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

STACK_DIR = Path(__file__).resolve().parent
STATE_DIR = Path(os.environ.get("STACK_STATE_DIR", STACK_DIR.parent / ".stack")).resolve()
STATE_FILE = STATE_DIR / "state.json"
LOG_DIR = STATE_DIR / "logs"
MILVUS_VENV = STATE_DIR / "milvus-venv"
MILVUS_DATA = STATE_DIR / "milvus-data"
JAEGER_BIN = STATE_DIR / "bin" / "jaeger"
JAEGER_DATA = STATE_DIR / "jaeger-data"  # Badger's files: traces outlive a restart (TTL in config.yaml)
CLUSTER_DIR = STATE_DIR / "milvus-cluster"  # STACK_MILVUS_MODE=cluster: etcd, Kafka, storage, configs
# Each Milvus has its own users (the cluster's in its etcd): its secrets live beside its data.
SECRETS_DIR = CLUSTER_DIR if os.environ.get("STACK_MILVUS_MODE") == "cluster" else STATE_DIR
MILVUS_TOKEN_FILE = SECRETS_DIR / "milvus-token"  # user:password of the demo's user, mode 0600
MILVUS_ROOT_PASSWORD_FILE = SECRETS_DIR / "milvus-root-password"

HOST = "127.0.0.1"  # where the embedded stack listens

# The embedded (and docker) stack's ports, each moved by its variable so that two
# stacks run side by side. They reach Jaeger's config.yaml, milvus_standalone.py and
# docker-compose.yaml under the same names (port_env()). Milvus's internal gRPC ports
# move by themselves (milvus_standalone.py).
PORT_DEFAULTS = {
    "STACK_MILVUS_PORT": 19530,
    "STACK_MILVUS_HEALTH_PORT": 9091,
    "STACK_ETCD_PORT": 2379,
    "STACK_ETCD_PEER_PORT": 2380,
    "STACK_OTLP_GRPC_PORT": 4317,
    "STACK_OTLP_HTTP_PORT": 4318,
    "STACK_JAEGER_QUERY_PORT": 16686,
    "STACK_JAEGER_GRPC_PORT": 16685,
    # STACK_MILVUS_MODE=cluster only (cluster_plan.py): Kafka, and each Milvus role's own
    # gRPC and metrics ports (Milvus's defaults; the proxy's are the two above).
    "STACK_KAFKA_PORT": 9092,
    "STACK_KAFKA_CONTROLLER_PORT": 9093,
    "STACK_MILVUS_ROOTCOORD_PORT": 53100,
    "STACK_MILVUS_QUERYCOORD_PORT": 19531,
    "STACK_MILVUS_DATACOORD_PORT": 13333,
    "STACK_MILVUS_INDEXCOORD_PORT": 31000,
    "STACK_MILVUS_PROXY_INTERNAL_PORT": 19529,
    "STACK_MILVUS_QUERYNODE_PORT": 21123,
    "STACK_MILVUS_DATANODE_PORT": 21124,
    "STACK_MILVUS_INDEXNODE_PORT": 21121,
    "STACK_MILVUS_COORDINATORS_METRICS_PORT": 9191,
    "STACK_MILVUS_QUERYNODE_METRICS_PORT": 9192,
    "STACK_MILVUS_DATANODE_METRICS_PORT": 9193,
    "STACK_MILVUS_INDEXNODE_METRICS_PORT": 9194,
    # The tail-sampling pipeline's query API (tail_sampling() below), when it runs.
    "STACK_TAIL_QUERY_PORT": 16696,
    "STACK_TAIL_GRPC_PORT": 16695,
    # The span counts' Prometheus endpoint (span_counts() below), when it runs.
    "STACK_SPAN_COUNTS_PORT": 8889,
}

class StackError(Exception):
    """A problem the user can act on; printed as one line."""


MILVUS_MODES = ("standalone", "cluster")
CLUSTER_SERVER_SERVICE = "proxy"  # the cluster's process that answers the clients, as its spans name it


def milvus_mode() -> str:
    """STACK_MILVUS_MODE, checked: standalone (default: one process) or cluster (backends/cluster.py)."""
    mode = os.environ.get("STACK_MILVUS_MODE") or "standalone"
    if mode not in MILVUS_MODES:
        raise StackError(f"unknown STACK_MILVUS_MODE={mode!r}; use 'standalone' (default) or 'cluster'")
    return mode


def port(variable: str) -> int:
    value = os.environ.get(variable, str(PORT_DEFAULTS[variable]))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{variable}={value!r} is not a TCP port number")
    return int(value)


def ports() -> dict[str, int]:
    """Every port variable with its value; the first bad one raises."""
    return {variable: port(variable) for variable in PORT_DEFAULTS}


def tail_sampling() -> float | None:
    """STACK_TAIL_SAMPLING: the decision_wait (seconds) of a second Jaeger pipeline that keeps
    only errored or slow traces (stack/jaeger/tail-sampling.yaml); unset or empty: no such pipeline."""
    value = os.environ.get("STACK_TAIL_SAMPLING", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise StackError(f"STACK_TAIL_SAMPLING={value!r} is not a decision wait in seconds (0 < s <= 600)")
    return seconds


def span_counts() -> bool:
    """STACK_SPAN_COUNTS=1: Jaeger also counts the spans it receives, per service, span name,
    kind and status (stack/jaeger/span-counts.yaml), on a Prometheus endpoint; unset, empty or 0: not."""
    value = os.environ.get("STACK_SPAN_COUNTS", "").strip()
    if value not in ("", "0", "1"):
        raise StackError(f"STACK_SPAN_COUNTS={value!r} is not 0 or 1")
    return value == "1"


MILVUS_LOG_LEVELS = ("debug", "info", "warn", "error")


def milvus_log_level() -> str:
    """STACK_MILVUS_LOG_LEVEL: the embedded Milvus's log.level (default info). Milvus 2.3.5 logs
    its Search, Query and Insert requests only at debug (`nox -s sampling` asks for it)."""
    value = os.environ.get("STACK_MILVUS_LOG_LEVEL", "").strip() or "info"
    if value not in MILVUS_LOG_LEVELS:
        raise StackError(f"STACK_MILVUS_LOG_LEVEL={value!r} is not one of {', '.join(MILVUS_LOG_LEVELS)}")
    return value


def tail_api_url() -> str:
    """The tail-sampling pipeline's query API (only while STACK_TAIL_SAMPLING runs it)."""
    return f"http://{HOST}:{port('STACK_TAIL_QUERY_PORT')}"


def span_counts_url() -> str:
    """Jaeger's span counts in Prometheus's text format (only while STACK_SPAN_COUNTS runs them)."""
    return f"http://{HOST}:{port('STACK_SPAN_COUNTS_PORT')}/metrics"


def port_env() -> dict:
    """The environment with every stack port variable set, as the stack's processes read them."""
    return {**os.environ, **{variable: str(value) for variable, value in ports().items()}}


def _local(variable: str, default: Callable[[], str]) -> str:
    """The variable as set, else this stack's address (its port read only then)."""
    return os.environ[variable] if variable in os.environ else default()


# Where the clients send and the suite reads: this stack unless set, or any Milvus + Jaeger.


def local_milvus_uri() -> str:
    """The Milvus we start, whatever MILVUS_URI says."""
    return f"http://{HOST}:{port('STACK_MILVUS_PORT')}"


def milvus_uri() -> str:
    return _local("MILVUS_URI", local_milvus_uri)


def otlp_grpc_endpoint() -> str:
    return _local("OTEL_EXPORTER_OTLP_ENDPOINT", lambda: f"http://{HOST}:{port('STACK_OTLP_GRPC_PORT')}")


def jaeger_api_url() -> str:
    return _local("JAEGER_API_URL", lambda: f"http://{HOST}:{port('STACK_JAEGER_QUERY_PORT')}")


def etcd_url() -> str:
    """Milvus's embedded etcd."""
    return f"http://{HOST}:{port('STACK_ETCD_PORT')}"


def milvus_token() -> str | None:
    """The clients' MILVUS_TOKEN for our own stack; None before its first start, and for an
    external Milvus (whose token the user gives as MILVUS_TOKEN)."""
    if os.environ.get("STACK_BACKEND") == "external":
        return None
    try:
        return MILVUS_TOKEN_FILE.read_text().strip() or None
    except FileNotFoundError:
        return None
