"""Free TCP ports on 127.0.0.1, and the environment of a stack the tests start beside the shared one."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from stack.addresses import JAEGER_BIN, PORT_DEFAULTS

# Settings that would point a side stack's clients and suite at the shared one.
POINTING_ELSEWHERE = ("MILVUS_URI", "MILVUS_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT", "JAEGER_API_URL", "STACK_BACKEND", "MILVUS_SERVER_SERVICES")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def side_stack_env(state: Path, **settings: str) -> dict:
    """A stack's environment with `state` as its state dir and free ports for every port variable."""
    if JAEGER_BIN.exists():  # the shared stack's build: saves minutes of `go build`
        (state / "bin").mkdir()
        for built in (JAEGER_BIN, JAEGER_BIN.with_suffix(".sha256")):
            shutil.copy2(built, state / "bin")
    env = {key: value for key, value in os.environ.items() if key not in POINTING_ELSEWHERE}
    env.update(zip(PORT_DEFAULTS, map(str, free_ports(len(PORT_DEFAULTS)))))
    env.update(STACK_STATE_DIR=str(state), DEMO_RUNS_DIR=str(state / "runs"), **settings)
    return env
