"""The embedded backend (the default): real servers from package registries, no Docker.
Milvus is PyPI's `milvus` package (the Milvus standalone binary with embedded etcd),
Jaeger is built from the Go module proxy (installs.py). Jaeger and etcd listen on
127.0.0.1; Milvus 2.3.5 binds its gRPC ports on all interfaces (it has no setting for
that). Each runs in a process group of its own, recorded in state.json."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from stack import state
from stack.addresses import (
    HOST,
    JAEGER_DATA,
    MILVUS_DATA,
    STACK_DIR,
    etcd_url,
    milvus_log_level,
    port,
    port_env,
    span_counts,
    tail_sampling,
)
from stack.components import JAEGER_START_TIMEOUT_S, MILVUS_START_TIMEOUT_S, Component, components
from stack.installs import JAEGER_MODULE, ensure_jaeger_built, ensure_milvus_installed
from stack.milvus_sessions import end_sessions
from stack.processes import check_ports_free, port_holder, say, spawn, stop_group, stray_groups, wait_until


def milvus_env() -> dict:
    env = port_env()
    env.update(
        TRACE_EXPORTER="otlp",
        TRACE_SAMPLEFRACTION="1",
        TRACE_OTLP_ENDPOINT=f"{HOST}:{port('STACK_OTLP_GRPC_PORT')}",  # our Jaeger, whatever the clients use
        TRACE_OTLP_SECURE="false",
        # A Milvus that crashed or was killed leaves its etcd sessions behind (`down` ends
        # them first: end_milvus_sessions); the next one serves no DDL until they expire,
        # a TTL after its etcd starts (default 30 s: an `up` then took 35 s; with 10 s, 15 s).
        COMMON_SESSION_TTL="10",
        LOG_LEVEL=milvus_log_level(),
    )
    return env


def jaeger_env() -> dict:
    # Jaeger traces its own query API through an OTLP exporter to OTEL_EXPORTER_OTLP_ENDPOINT
    # (default :4317): into itself, or, for a stack on other ports, into nothing, and then its
    # stop waited 10-12 s for that export (measured; 1.4 s without it).
    env = {**port_env(), "STACK_HOST": HOST, "STACK_JAEGER_DATA": str(JAEGER_DATA), "OTEL_TRACES_SAMPLER": "always_off"}
    if (wait_s := tail_sampling()) is not None:
        env["STACK_TAIL_DECISION_WAIT"] = f"{round(wait_s * 1000)}ms"
    return env


def jaeger_command() -> list:
    """config.yaml, with the tail-sampling pipeline (STACK_TAIL_SAMPLING) and the span counts
    (STACK_SPAN_COUNTS) on top when asked for."""
    overlays = [name for name, on in (("tail-sampling.yaml", tail_sampling() is not None), ("span-counts.yaml", span_counts())) if on]
    return [ensure_jaeger_built(), "--config", JAEGER_MODULE / "config.yaml", *(x for name in overlays for x in ("--config", JAEGER_MODULE / name))]


# What a component started before these settings existed was started with.
STARTED_WITH_DEFAULTS = {"tail_sampling": None, "span_counts": False, "log_level": "info"}


def wanted(component: Component) -> dict:
    """What a running component must have been started with to be reused."""
    if component.name == "jaeger":
        return {"tail_sampling": tail_sampling(), "span_counts": span_counts()}
    return {"log_level": milvus_log_level()}


def launch(component: Component, current: dict) -> subprocess.Popen | None:
    """Start the component, or None when ours already runs healthy."""
    started = current.get(component.name, {})
    same = all(started.get(key, STARTED_WITH_DEFAULTS[key]) == value for key, value in wanted(component).items())
    if state.running_pgid(current, component.name) and component.healthy() and same:
        say(f"{component.name} already running and healthy (process group {current[component.name]['pgid']}); reusing it")
        return None
    if state.running_pgid(current, component.name):
        say(f"restarting {component.name} ({'unhealthy' if same else f'for {wanted(component)}'})")
        if component.name == "milvus":
            end_milvus_sessions()
        stop_group(component.name, current[component.name]["pgid"])
        for held, role in component.ports.items():
            wait_until(f"port {held} ({role}) to be released", lambda p=held: port_holder(p) is None, 15)
    check_ports_free(component.ports)
    if component.name == "jaeger":
        cmd, env = jaeger_command(), jaeger_env()
    else:
        cmd, env = [ensure_milvus_installed(), STACK_DIR / "milvus_standalone.py", MILVUS_DATA], milvus_env()
    say(f"starting {component.name} ...")
    proc, log = spawn(component.name, cmd, env)
    current[component.name] = {"pgid": proc.pid, "log": str(log), "started_at": time.time(), **wanted(component)}
    state.save(current)
    return proc


def await_ready(component: Component, current: dict, proc: subprocess.Popen) -> None:
    timeout_s = JAEGER_START_TIMEOUT_S if component.name == "jaeger" else MILVUS_START_TIMEOUT_S
    log = Path(current[component.name]["log"])
    wait_until(component.name, component.healthy, timeout_s, alive=lambda: proc.poll() is None, log=log)
    took = time.time() - current[component.name]["started_at"]  # from its start: the components start together
    current[component.name]["ready_after_s"] = round(took, 2)
    state.save(current)
    say(f"{component.name} ready in {took:.1f} s (log: {log})")


def start_components(current: dict) -> None:
    """Start what does not run healthy, all at once (Milvus's exporter retries until Jaeger
    listens), and wait for each; on a failure stop what this started."""
    launched: list[tuple[Component, subprocess.Popen]] = []
    try:
        for component in components():
            if proc := launch(component, current):
                launched.append((component, proc))
        for component, proc in launched:
            await_ready(component, current, proc)
    except BaseException:
        for component, proc in launched:
            stop_group(component.name, proc.pid)
        raise


def up() -> None:
    current = state.load()
    current["backend"] = "embedded"
    # Every port of every component that is not ours and running, before starting any:
    # a taken Milvus port found after Jaeger started would leave half a stack.
    for component in components():
        if not state.running_pgid(current, component.name):
            check_ports_free(component.ports)
    start_components(current)


def end_milvus_sessions() -> None:
    """So that the next `up` need not wait for them (milvus_sessions.py); without it, it waits."""
    try:
        say(f"ended Milvus's {end_sessions(etcd_url())} etcd sessions")
    except (OSError, ValueError) as error:
        say(f"could not end Milvus's etcd sessions ({error}); the next start waits COMMON_SESSION_TTL for them")


def down() -> None:
    current = state.load()
    stopped = []
    for component in reversed(components()):
        if pgid := state.running_pgid(current, component.name):
            if component.name == "milvus":
                end_milvus_sessions()
            stop_group(component.name, pgid)
            stopped.append(component)
    strays = stray_groups()
    for pgid in strays:
        stop_group("stray stack process", pgid)
    for component in components() if strays else stopped:
        for held, role in component.ports.items():
            wait_until(f"port {held} ({role}) to be released", lambda p=held: port_holder(p) is None, 15)
    state.clear()
