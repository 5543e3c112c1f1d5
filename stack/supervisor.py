"""The stack's API, for the CLI (stackctl.py) and the tools alike: up, down, status and
rotate with the backend STACK_BACKEND names (stack/backends/), and what the tools ask of
a running stack. Each raises StackError, one line, for a problem the user can act on."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

from stack import addresses, state
from stack.addresses import STATE_DIR, StackError, jaeger_api_url, milvus_uri, otlp_grpc_endpoint, span_counts, tail_sampling
from stack.backends import cluster, docker, embedded, external
from stack.components import components, milvus
from stack.installs import JAEGER_BUILD_TIMEOUT_S
from stack.milvus_user import ensure_milvus_user
from stack.processes import group_members, say, stray_groups

BACKENDS = {"embedded": embedded, "docker": docker, "external": external}


def backend() -> str:
    """STACK_BACKEND's name, checked."""
    name = os.environ.get("STACK_BACKEND", "embedded")
    if name not in BACKENDS:
        raise StackError(f"unknown STACK_BACKEND={name!r}; use 'embedded' (default), 'docker' or 'external'")
    return name


def milvus_mode() -> str:
    """STACK_MILVUS_MODE, checked against the backend: cluster runs with the embedded one only."""
    mode = addresses.milvus_mode()
    if mode == "cluster" and backend() != "embedded":
        raise StackError(f"STACK_MILVUS_MODE=cluster runs with the embedded backend only, not STACK_BACKEND={backend()}")
    return mode


def topology():
    """The module that starts and stops the stack: the backend's, or the cluster's."""
    return cluster if milvus_mode() == "cluster" else BACKENDS[backend()]


def recorded_cluster() -> bool:
    """The last `up` started a cluster (so `down` and `status` treat it as one, whatever the mode now)."""
    return state.load().get("backend") == "cluster"


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One up, down or rotate at a time: two at once would both build, install and start."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another `stackctl.py up` or `down` is running; waiting for it (up to {JAEGER_BUILD_TIMEOUT_S} s)")
            deadline = time.monotonic() + JAEGER_BUILD_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StackError("gave up waiting for another stackctl.py up/down to finish") from None
                    time.sleep(1)
        yield


def up() -> None:
    """Start the stack, or reuse a healthy one; returns once Milvus serves the demo's user."""
    with exclusive():
        started = time.monotonic()
        name = backend()
        check_same_mode()
        if tail_sampling() is not None and name != "embedded":
            raise StackError(f"STACK_TAIL_SAMPLING runs a pipeline of the embedded stack's Jaeger; STACK_BACKEND={name} has none")
        if span_counts() and name != "embedded":
            raise StackError(f"STACK_SPAN_COUNTS runs a pipeline of the embedded stack's Jaeger; STACK_BACKEND={name} has none")
        topology().up()
        if topology() is cluster:
            serve_cluster()
        elif name != "external":
            ensure_milvus_user()
        say(
            f"stack up in {time.monotonic() - started:.1f} s: "
            f"Milvus {milvus_uri()}, OTLP {otlp_grpc_endpoint()}, Jaeger API {jaeger_api_url()}"
        )


def check_same_mode() -> None:
    """One Milvus at a time on the stack's ports: the other mode's must be stopped first."""
    current = state.load()
    running = {"standalone": state.running_pgid(current, "milvus"), "cluster": state.running_pgid(current, "milvus-proxy")}
    wanted = milvus_mode() if backend() == "embedded" else None
    for mode, pgid in running.items():
        if pgid and wanted and mode != wanted:
            raise StackError(
                f"this stack runs Milvus {mode} (process group {pgid}); `python stack/stackctl.py down` first, "
                f"then `up` with STACK_MILVUS_MODE={wanted}"
            )


def serve_cluster() -> None:
    """The demo's user on the cluster, the wait ended as soon as a process of it stops answering, which is named."""
    try:
        ensure_milvus_user(alive=lambda: cluster.first_down() is None)
    except StackError as error:
        down = cluster.first_down()
        raise StackError(f"Milvus does not serve requests: {down}" if down else str(error)) from None


def down() -> None:
    """Stop what is ours (Milvus's etcd sessions ended first), and wait until its ports are free."""
    with exclusive():
        if backend() == "external":
            say("STACK_BACKEND=external: nothing of ours to stop")
            return
        (cluster if recorded_cluster() else topology()).down()
        say("stack down")


def status() -> int:
    """Print what runs and whether it is healthy; 0 when all of it is, else 3."""
    if backend() == "external":
        problems = external.problems()
        say(f"backend: external; Milvus {milvus_uri()}, Jaeger API {jaeger_api_url()}: {'; '.join(problems) or 'both answer'}")
        return 3 if problems else 0
    current = state.load()
    is_cluster = current.get("backend") == "cluster" or milvus_mode() == "cluster"
    parts = components()[:1] if is_cluster else components()  # the cluster's Milvus: one line per process below
    say(f"backend: {current.get('backend', backend())}; state: {STATE_DIR}")
    all_healthy = True
    for component in parts:
        pgid = state.running_pgid(current, component.name)
        is_healthy = component.healthy()
        all_healthy &= is_healthy
        where = ", ".join(f"{port} {role}" for port, role in component.ports.items())
        processes = f"process group {pgid} ({len(group_members(pgid))} processes)" if pgid else "no process of ours"
        say(f"{component.name}: {'healthy' if is_healthy else 'NOT healthy'}; {processes}; {where}")
    if is_cluster:
        for is_healthy, line in cluster.status_lines(current):
            all_healthy &= is_healthy
            say(line)
    strays = stray_groups() - {state.running_pgid(current, name) for name in current if isinstance(current[name], dict)}
    if strays:
        say(f"stray stack processes (process groups {sorted(strays)}): `python stack/stackctl.py down` stops them")
    return 0 if all_healthy else 3


def rotate() -> None:
    """A new user and password for the demo; the old user is dropped once the new one works."""
    with exclusive():
        if backend() == "external":
            raise StackError("STACK_BACKEND=external: the Milvus user is yours to manage (MILVUS_TOKEN)")
        if not milvus().healthy():
            raise StackError("Milvus is not running; `python stack/stackctl.py up` starts it")
        ensure_milvus_user(rotate=True)


def healthy() -> bool:
    """Both Milvus and Jaeger answer their health checks, whoever started them."""
    return all(component.healthy() for component in components())


def last_start() -> dict[str, dict]:
    """Each embedded component's record of the last `up`: pgid, log, started_at (epoch s),
    ready_after_s; empty for a component it did not start."""
    current = state.load()
    return {component.name: current.get(component.name, {}) for component in components()}


def milvus_pgid() -> int | None:
    """The process group of the embedded stack's running Milvus (the cluster's proxy), for a tool that kills it."""
    return process_pgid("milvus-proxy" if recorded_cluster() else "milvus")


def process_pgid(name: str) -> int | None:
    """The process group of one process of ours by its name in state.json (cluster_plan.py's
    names for the cluster: milvus-querynode, kafka, ...), None when it does not run."""
    return state.running_pgid(state.load(), name)
