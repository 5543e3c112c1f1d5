"""The stack's two parts, Jaeger and Milvus: their ports and health checks, whichever
backend runs them."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from stack.addresses import HOST, port, span_counts, tail_sampling

JAEGER_START_TIMEOUT_S = 60
MILVUS_START_TIMEOUT_S = 240


@dataclass(frozen=True)
class Component:
    name: str
    ports: dict[int, str]
    health_url: str
    health_body: bytes | None = None

    def healthy(self) -> bool:
        return http_ok(self.health_url, expect=self.health_body)


def http_ok(url: str, expect: bytes | None = None, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200 and (expect is None or expect in response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


def jaeger() -> Component:
    return Component(
        "jaeger",
        {
            port("STACK_OTLP_GRPC_PORT"): "OTLP gRPC",
            port("STACK_OTLP_HTTP_PORT"): "OTLP HTTP",
            port("STACK_JAEGER_QUERY_PORT"): "Jaeger query API",
            port("STACK_JAEGER_GRPC_PORT"): "Jaeger query gRPC",
            **(
                {port("STACK_TAIL_QUERY_PORT"): "tail-sampling query API", port("STACK_TAIL_GRPC_PORT"): "tail-sampling query gRPC"}
                if tail_sampling() is not None
                else {}
            ),
            **({port("STACK_SPAN_COUNTS_PORT"): "span counts (Prometheus)"} if span_counts() else {}),
        },
        f"http://{HOST}:{port('STACK_JAEGER_QUERY_PORT')}/api/services",
    )


def milvus() -> Component:
    """Its ports are checked before the start, so that a taken port is named in one line
    rather than found later in Milvus's own logs."""
    return Component(
        "milvus",
        {
            port("STACK_MILVUS_PORT"): "Milvus gRPC",
            port("STACK_MILVUS_HEALTH_PORT"): "Milvus health/metrics",
            port("STACK_ETCD_PORT"): "Milvus embedded etcd",
            port("STACK_ETCD_PEER_PORT"): "Milvus embedded etcd peer",
        },
        f"http://{HOST}:{port('STACK_MILVUS_HEALTH_PORT')}/healthz",
        health_body=b"OK",
    )


def components() -> tuple[Component, Component]:
    """In start order: Milvus exports spans from its first second."""
    return jaeger(), milvus()
