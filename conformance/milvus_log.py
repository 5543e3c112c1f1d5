"""Milvus's own log, read by trace id: Milvus's proxy logs each request through an
interceptor that adds the request's trace id as `[traceID=<32 hex>]`, sampled or not.
Where the log is depends on the backend: the embedded stack's files (the standalone's own,
or each cluster role's output), the docker stack's container log; an external Milvus's log
is not ours to read (LogUnavailable)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable

from stack.addresses import LOG_DIR, MILVUS_DATA, milvus_mode
from stack.backends.docker import COMPOSE_FILE

LOG_GLOB = "standalone-*.log"  # the embedded Milvus's log files, in MILVUS_DATA/logs
CLUSTER_LOG_GLOB = "milvus-*.log"  # each cluster role's output, in LOG_DIR (cluster_plan.py)
DOCKER_LOGS_TIMEOUT_S = 60
TIME = re.compile(r"^\[(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+)")
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
PROXY_MESSAGE = re.compile(r'\[proxy/[^\]]*\] \["([^"]*)"\]')  # [proxy/impl.go:2493] ["Search received"]


class LogUnavailable(Exception):
    """Milvus's log cannot be read here; the reason in one line."""


def check_trace_id(trace_id: str) -> str:
    if not TRACE_ID.match(trace_id):
        raise ValueError(f"{trace_id!r} is not a trace id (32 lowercase hex digits)")
    return trace_id


def raw_lines() -> Iterable[str]:
    """Every line of Milvus's log, by the backend STACK_BACKEND names."""
    backend = os.environ.get("STACK_BACKEND", "embedded")
    if backend == "external":
        raise LogUnavailable("STACK_BACKEND=external: Milvus's log is on its own machine, not readable from here")
    if backend == "docker":
        if not shutil.which("docker"):
            raise LogUnavailable("STACK_BACKEND=docker but `docker` is not on PATH")
        cmd = ["docker", "compose", "-f", str(COMPOSE_FILE), "logs", "--no-color", "--no-log-prefix", "milvus"]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=DOCKER_LOGS_TIMEOUT_S)
        if result.returncode != 0:
            raise LogUnavailable(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")
        return result.stdout.splitlines()
    folder, pattern = (LOG_DIR, CLUSTER_LOG_GLOB) if milvus_mode() == "cluster" else (MILVUS_DATA / "logs", LOG_GLOB)
    files = sorted(folder.glob(pattern))
    if not files:
        raise LogUnavailable(f"no Milvus log in {folder} ({pattern}); has the stack run?")
    return (line.rstrip("\n") for path in files for line in path.open(errors="replace"))


def lines_of(trace_ids: Iterable[str], lines: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Each trace id's log lines, in time order (a line's own timestamp; files can interleave)."""
    wanted = {check_trace_id(trace_id) for trace_id in trace_ids}
    found: dict[str, list[str]] = {trace_id: [] for trace_id in wanted}
    for line in raw_lines() if lines is None else lines:
        start = line.find("[traceID=")
        if start >= 0 and (trace_id := line[start + 9 : start + 41]) in found:
            found[trace_id].append(line)
    return {trace_id: sorted(kept, key=_when) for trace_id, kept in found.items()}


def _when(line: str) -> str:
    match = TIME.match(line)
    return match.group(1) if match else ""


def calls_logged(lines: list[str], methods: Iterable[str]) -> dict[str, int]:
    """How many of the lines are the proxy's about each method's request: its messages
    naming the method ("Search received", "Detail of insert request in Proxy"). Milvus
    2.3.5 logs these at debug level (STACK_MILVUS_LOG_LEVEL)."""
    messages = [match.group(1).lower() for line in lines if (match := PROXY_MESSAGE.search(line))]
    return {method: sum(1 for message in messages if method.lower() in message) for method in methods}
