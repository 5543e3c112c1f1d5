"""The faults `nox -s faults` puts every approach through (conformance/SCENARIO.md, "When
things go wrong"). Each fault is one function registered with @fault: it runs the
client under the fault and returns what missed the contract's bounds."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator

from conformance.jaeger import Jaeger
from conformance.runner import Outcome
from conformance.spans import Trace, root_span, step_spans

HOST = "127.0.0.1"
TELEMETRY_SLACK_S = 2.0  # a dead collector may cost this much over a normal run
MILVUS_DOWN_S = 15.0
AFTER_KILL_S = 30.0
PAUSE_S = 3
TRACE_WAIT_S = 20.0
STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(|^goroutine \d+ \[|^\s+at .+:\d+:\d+\)?$")


@dataclass
class Trial:
    """One approach under one fault: how to run its client, and what a normal run looked like."""

    normal: Outcome
    run: Callable[..., Outcome]  # run(env overrides, on_line=None) -> Outcome
    jaeger: Jaeger
    scenario: dict
    kill_milvus: Callable[[], None]
    restart_milvus: Callable[[], None]


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    expect: str
    function: Callable[[Trial, dict], list[str]]


FAULTS: dict[str, Fault] = {}


def fault(what: str, expect: str):
    """Registers a fault; its function fills `result` (figures) and returns the bounds it missed."""

    def register(function):
        FAULTS[function.__name__] = Fault(function.__name__, what, expect, function)
        return function

    return register


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A listener that accepts connections and never answers."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, 0))
    server.listen(64)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            with contextlib.suppress(OSError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        server.close()


def _shape(line: str) -> str:
    """A log line without its timestamps, ports and counts: what stays the same run to run."""
    return re.sub(r"\d+", "#", line)


def new_lines(outcome: Outcome, normal: Outcome | None) -> list[str]:
    """stderr lines the normal run did not print (as many times)."""
    expected = Counter(_shape(line) for line in (normal.stderr if normal else []))
    new = []
    for line in outcome.stderr:
        if expected[_shape(line)] > 0:
            expected[_shape(line)] -= 1
        else:
            new.append(line)
    return new


def describe(outcome: Outcome, normal: Outcome | None = None) -> dict:
    new = new_lines(outcome, normal)
    return {
        "exit_status": outcome.exit_status,
        "wall_s": outcome.wall_s,
        "timed_out": outcome.timed_out,
        "stderr_lines": len(outcome.stderr),
        "new_stderr_lines": len(new),
        "first_new_stderr_line": new[0][:300] if new else None,
        "stack_trace": any(STACK_TRACE.search(line) for line in outcome.stderr),
        "error": (outcome.record or {}).get("error"),
    }


def outside_work_s(outcome: Outcome) -> float | None:
    """Wall time minus the run's own work (the record's duration_s): start-up and the
    tracing shutdown. Milvus's own pace, seconds apart from run to run on 2 busy cores, drops out."""
    duration = (outcome.record or {}).get("duration_s")
    return round(outcome.wall_s - duration, 2) if isinstance(duration, (int, float)) else None


def telemetry_bounds(trial: Trial, outcome: Outcome, result: dict) -> list[str]:
    result.update(describe(outcome, trial.normal), normal_wall_s=trial.normal.wall_s)
    result.update(outside_work_s=outside_work_s(outcome), normal_outside_work_s=outside_work_s(trial.normal))
    problems = []
    if outcome.exit_status != 0:
        problems.append(f"exit {outcome.exit_status}: tracing broke the app")
    extra = None
    if result["outside_work_s"] is not None and result["normal_outside_work_s"] is not None:
        extra = result["outside_work_s"] - result["normal_outside_work_s"]
    if extra is None or extra > TELEMETRY_SLACK_S:
        problems.append(
            f"{outcome.wall_s:.1f} s against {trial.normal.wall_s:.1f} s normally, "
            f"{'?' if extra is None else f'{extra:+.1f}'} s outside the work (> +{TELEMETRY_SLACK_S:.0f} s)"
        )
    if result["new_stderr_lines"] != 1:
        problems.append(f"{result['new_stderr_lines']} new stderr lines, not one warning")
    if result["stack_trace"]:
        problems.append("a stack trace on stderr")
    return problems


@fault("nothing listens on the OTLP port", "exit 0, at most 2 s more than a normal run outside its work (start-up and shutdown), one warning line")
def collector_down(trial: Trial, result: dict) -> list[str]:
    outcome = trial.run({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{free_port()}"})
    return telemetry_bounds(trial, outcome, result)


@fault("the OTLP port accepts connections and never answers", "exit 0, at most 2 s more than a normal run outside its work (start-up and shutdown), one warning line")
def collector_black_hole(trial: Trial, result: dict) -> list[str]:
    with black_hole() as port:
        outcome = trial.run({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{port}"})
    return telemetry_bounds(trial, outcome, result)


def spans_so_far(trial: Trial, outcome: Outcome, failing_step: str, result: dict) -> list[str]:
    """The trace up to the failure reached Jaeger, with the failing step (and the root) ERROR."""
    trace_id = (outcome.record or {}).get("trace_id")
    if not trace_id or set(trace_id) == {"0"}:
        return ["no run record with a trace id"]
    deadline = time.monotonic() + TRACE_WAIT_S
    trace: Trace | None = None
    while time.monotonic() < deadline:
        trace = trial.jaeger.trace(trace_id)
        if trace and failing_step in step_spans(trace, trial.scenario):
            break
        time.sleep(1)
    if trace is None:
        return [f"trace {trace_id} not in Jaeger after {TRACE_WAIT_S:.0f} s"]
    steps = step_spans(trace, trial.scenario)
    result["steps_exported"] = list(steps)
    problems = []
    if failing_step not in steps:
        problems.append(f"no {failing_step!r} step span in the trace (steps: {', '.join(steps) or 'none'})")
    elif not steps[failing_step].is_error:
        problems.append(f"the {failing_step!r} step span is not ERROR")
    root = root_span(trace, trial.scenario)
    if root is None or not root.is_error:
        problems.append("the root span is missing or not ERROR")
    return problems


def failure_bounds(outcome: Outcome, result: dict, within_s: float, names: str) -> list[str]:
    problems = []
    if outcome.exit_status == 0:
        problems.append("exit 0 although the run failed")
    if result["wall_s"] > within_s:
        problems.append(f"{result['wall_s']:.1f} s to give up (> {within_s:.0f} s)")
    if not any(names in line for line in outcome.stderr):
        problems.append(f"no stderr line names {names}")
    if result["stack_trace"]:
        problems.append("a stack trace on stderr")
    return problems


@fault("nothing listens at MILVUS_URI", "non-zero exit within 15 s, one line naming MILVUS_URI, root and connect spans ERROR in Jaeger")
def milvus_down(trial: Trial, result: dict) -> list[str]:
    outcome = trial.run({"MILVUS_URI": f"http://{HOST}:{free_port()}"})
    result.update(describe(outcome, trial.normal))
    return failure_bounds(outcome, result, MILVUS_DOWN_S, "MILVUS_URI") + spans_so_far(trial, outcome, "connect", result)


@fault(
    "Milvus SIGKILLed after the insert step",
    "non-zero exit within 30 s of the kill, the next step ERROR in Jaeger; `up` brings Milvus back and the next run passes",
)
def milvus_killed(trial: Trial, result: dict) -> list[str]:
    killed_at: list[float] = []

    def on_line(line: str) -> None:
        if line.strip() == "paused after insert" and not killed_at:
            trial.kill_milvus()
            killed_at.append(time.monotonic())

    started = time.monotonic()
    outcome = trial.run({"DEMO_PAUSE_AFTER": "insert", "DEMO_PAUSE_S": str(PAUSE_S)}, on_line=on_line)
    result.update(describe(outcome, trial.normal))
    problems = []
    if not killed_at:
        problems.append("the client never printed 'paused after insert' (DEMO_PAUSE_AFTER)")
    else:
        result["exit_after_kill_s"] = round(started + outcome.wall_s - killed_at[0] - PAUSE_S, 2)
        if outcome.exit_status == 0:
            problems.append("exit 0 although Milvus was killed")
        if result["exit_after_kill_s"] > AFTER_KILL_S:
            problems.append(f"{result['exit_after_kill_s']:.1f} s after the pause to give up (> {AFTER_KILL_S:.0f} s)")
        if result["stack_trace"]:
            problems.append("a stack trace on stderr")
        problems += spans_so_far(trial, outcome, "flush", result)
    trial.restart_milvus()
    again = trial.run({})
    result["next_run_exit_status"] = again.exit_status
    if again.exit_status != 0:
        problems.append(f"after `up` the next run exits {again.exit_status}")
    return problems


@fault("MILVUS_URI is malformed", "one line naming MILVUS_URI, non-zero exit, no stack trace")
def bad_uri(trial: Trial, result: dict) -> list[str]:
    outcome = trial.run({"MILVUS_URI": "http://127.0.0.1:port"})
    result.update(describe(outcome, trial.normal))
    return failure_bounds(outcome, result, MILVUS_DOWN_S, "MILVUS_URI")


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
