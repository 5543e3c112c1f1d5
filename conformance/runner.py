"""How a client runs, the one way for every purpose: the environment of an approach
(conformance/APPROACHES.md, "What the nox session gives every client"), then one run of
it with a deadline, its output and its run record. The noxfile, the bench, the faults,
the matrix and the end-to-end tests all start their clients from a Launch made here.

    the normal run       launch(approach)
    the bench's modes    launch(approach, record, untraced=..., env=its settings)
    the faults           launch(approach, record, env=the fault's settings)
    a matrix cell        launch(approach, record, name=..., command=..., cwd=..., env=...)
    a test run           launch(approach, record, venv=..., env=overrides)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.approaches import Approach
from conformance.paths import SCENARIO_FILE
from conformance.runs import load_scenario, record_path, token
from stack.addresses import milvus_uri, otlp_grpc_endpoint

# What a client never inherits from the caller: the contract's settings (OTEL_*) and the
# demo's (DEMO_*) come from the purpose alone, MILVUS_TOKEN from token(), and the runtimes'
# option hooks would load an agent or a profiler that the purpose did not ask for.
DROPPED_PREFIXES = ("OTEL_", "DEMO_")
DROPPED = ("MILVUS_TOKEN", "JAVA_TOOL_OPTIONS", "NODE_OPTIONS")


def inherited(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment less what the purpose alone decides (DROPPED...)."""
    return {key: value for key, value in environ.items() if not key.startswith(DROPPED_PREFIXES) and key not in DROPPED}


def settings(approach: Approach, scenario: dict, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What every client gets (conformance/APPROACHES.md), then the approach's own env."""
    secret = token(environ)
    return {
        "MILVUS_URI": milvus_uri(),
        "OTEL_SERVICE_NAME": approach.service_name(scenario),
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_grpc_endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "DEMO_APPROACH": approach.name,
        "DEMO_SCENARIO": str(SCENARIO_FILE),
        **({"MILVUS_TOKEN": secret} if secret else {}),
        **approach.env,
    }


@dataclass(frozen=True)
class Launch:
    """A client process to start: everything Popen needs, the environment complete."""

    command: list[str]
    cwd: Path
    env: dict[str, str]
    record: Path  # DEMO_RUN_RECORD: where the client writes its run record


def launch(
    approach: Approach,
    record: Path | None = None,
    *,
    untraced: bool = False,
    name: str | None = None,
    command: list[str] | None = None,
    cwd: Path | None = None,
    venv: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Launch:
    """The approach's client for one purpose. record: default .runs/<language>-<approach>.json;
    untraced: the approach's untraced_run and untraced_env (the bench's baseline); name: runs
    it as another approach name (its own collection and service: the matrix's cells);
    command, cwd: another way to start the same client; venv: a virtualenv's bin folder,
    first on PATH (where nox installed a Python approach); env: the purpose's own settings,
    last, a None removing one. `environ` is the caller's environment (inherited())."""
    shown = replace(approach, name=name) if name else approach
    record = record or record_path(shown)
    full = {**inherited(environ), **settings(shown, load_scenario(), environ)}
    if untraced:
        full.update(approach.untraced_env)
    if venv:
        full["PATH"] = os.pathsep.join([str(venv), *([environ["PATH"]] if environ.get("PATH") else [])])
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    full["DEMO_RUN_RECORD"] = str(record)
    chosen = command or (approach.untraced_run if untraced and approach.untraced_run else approach.run)
    return Launch(list(chosen), cwd or approach.folder, full, record)


@dataclass(frozen=True)
class Outcome:
    """One finished run: its exit status (negative: the signal that ended it), wall time,
    the lines it printed (none when not captured) and its run record (None: none written)."""

    exit_status: int
    wall_s: float
    stdout: list[str]
    stderr: list[str]
    record: dict | None
    timed_out: bool = False


def _read(stream, lines: list[str], on_line: Callable[[str], None] | None) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if on_line:
            on_line(lines[-1])


def read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def run(client: Launch, timeout_s: float, on_line: Callable[[str], None] | None = None, capture: bool = True) -> Outcome:
    """Runs the client in a process group of its own, SIGKILLed at the deadline or when the
    caller stops (an exception). capture: its stdout and stderr lines are kept, on_line sees
    each stdout line as it comes (to act at a pause); else they go to the caller's."""
    client.record.parent.mkdir(parents=True, exist_ok=True)
    client.record.unlink(missing_ok=True)  # a failed run must not leave an old record to read
    started = time.monotonic()
    pipe = subprocess.PIPE if capture else None
    proc = subprocess.Popen(
        client.command, cwd=client.cwd, env=client.env, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe,
        text=True, start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_read, args=(stream, lines, hook), daemon=True)
        for stream, lines, hook in ((proc.stdout, out, on_line), (proc.stderr, err, None))
        if stream is not None
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started, nothing else
            proc.wait()
    wall_s = time.monotonic() - started
    for reader in readers:
        reader.join(timeout=5)
    return Outcome(proc.returncode, round(wall_s, 2), out, err, read_record(client.record), timed_out)
