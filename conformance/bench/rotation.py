"""One approach's cost measurement: one long-lived client process per mode (traced,
untraced, the A/A control, trims), taking turns in short blocks.

Why not a process per run: a client run spends 6-15 s starting and setting up the
collection for each few seconds of hot path, and a new process also lands in a new
phase of the machine's drift. Here every mode starts once and sets up while the
others do; each is paused (SIGSTOP) once its hot path is ready, before its first call
(DEMO_BENCH_CONTROL). Then they run one at a time for `block_s`, every mode once per
round in stats.schedule()'s randomized order, while all the others are paused: a few
warm-up rounds, then the measured ones. The bench notes each block's window and CPU;
the clients record each call's start, so blocks.py cuts the calls exactly. A client is
paused for at most a round, well within any call's deadline. At the end every client
is told to stop and exits as usual."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.approaches import Approach
from conformance.bench import stats as bench
from conformance.bench.blocks import Active
from conformance.bench.clients import Client
from conformance.paths import SCENARIO_FILE
from conformance.runner import launch
from conformance.runs import load_scenario

READY_POLL_S = 0.02
SETTLE_TURN_S = 0.5  # a settling client runs this long at a time, every mode in turn
# Every mode without the manifests' ~1 s export bounds (there for a collector that is down):
# a client paused mid-export would lose that batch. Each SDK's defaults instead (10 s, 30 s).
UNBOUNDED: dict[str, str | None] = dict.fromkeys(("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_BSP_EXPORT_TIMEOUT"))


@dataclass(frozen=True)
class Mode:
    """One way the bench runs an approach's client: traced or untraced (the approach's
    untraced_run and untraced_env), with settings of its own on top (None removes one)."""

    untraced: bool = False
    env: dict[str, str | None] = field(default_factory=dict)


def service(approach: Approach, mode: str) -> str:
    """Each mode's client sends as a service of its own: the untraced check looks for spans of the untraced ones."""
    return f"{approach.service_name(load_scenario())}-bench-{mode}"


@dataclass
class Rotation:
    """What happened to each mode's client: its blocks, and how long the set-up and the
    rounds took."""

    clients: dict[str, Client]
    periods: dict[str, list[Active]] = field(default_factory=dict)
    rounds: int = 0
    setup_s: float = 0.0
    settle_s: float = 0.0
    rounds_s: float = 0.0
    # Per mode, with settle_until: {"s": its hot path alone, "turns", "jit_shares": per turn, "settled": bool}.
    settled: dict[str, dict] = field(default_factory=dict)


def scenario_copy(scenario_file: Path, folder: Path, mode: str) -> Path:
    """The scenario with a collection prefix of the mode's own: the clients run at the
    same time, and each drops and creates its collection."""
    scenario = json.loads(scenario_file.read_text())
    scenario["collection_prefix"] = f"{scenario['collection_prefix']}bench_{mode.replace('-', '_')}_"
    path = folder / f"scenario-{mode}.json"
    path.write_text(json.dumps(scenario, indent=2) + "\n")
    return path


def thread_kind(name: str) -> str:
    """A thread's name without its trailing number: 'GC Thread#0' and 'GC Thread#1' are one
    kind (Linux keeps 15 characters: 'C2 CompilerThread0' is 'C2 CompilerThre')."""
    return re.sub(r"\d+$", "", name)


def cpu_delta(before: dict, after: dict) -> dict[str, int]:
    """CPU ns per thread kind between two Client.threads() readings (a thread new in
    `after` counts from zero; one gone by then is lost, with what it spent meanwhile)."""
    out: dict[str, int] = {}
    for key, (name, ns) in after.items():
        spent = ns - before.get(key, (name, 0))[1]
        if spent > 0:
            out[thread_kind(name)] = out.get(thread_kind(name), 0) + spent
    return out


def run_block(client: Client, seconds: float) -> tuple[int, int, dict[str, int]]:
    """Let a paused client run alone for `seconds` -> (window start, end in Unix µs, CPU ns by thread kind)."""
    before = client.threads()
    start_us = time.time_ns() // 1000
    client.run_for(seconds)
    end_us = time.time_ns() // 1000
    return start_us, end_us, cpu_delta(before, client.threads())


class SetUpFailed(RuntimeError):
    """A client exited while setting up, before any measurement."""


def read_error(client: Client) -> str:
    client.finish(1)  # it has exited: its run record says why
    return str((client.record or {}).get("error") or f"exit status {client.proc.returncode}")


def wait_ready(clients: dict[str, Client], deadline: float, say: Callable[[str], None]) -> None:
    """Pause each client as soon as its hot path is ready, then let them all go (each one
    begins when resumed); fail when one exits first or the deadline passes."""
    waiting = dict(clients)
    next_note = time.monotonic() + 15
    while waiting:
        for name, client in list(waiting.items()):
            if client.ready:
                client.pause()
                del waiting[name]
            elif not client.alive:
                raise SetUpFailed(f"{client.name} exited before its hot path: {read_error(client)} (log: {client.log_path})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{', '.join(c.name for c in waiting.values())}: no hot path before the timeout")
        if time.monotonic() > next_note:
            say(f"  ... setting up: waiting for {', '.join(waiting)}")
            next_note += 15
        time.sleep(READY_POLL_S)
    for client in clients.values():
        client.go()


def settle(clients: dict[str, Client], share: float, cap_s: float) -> dict[str, dict]:
    """Each client runs its hot path alone in turns of SETTLE_TURN_S until its JIT compiler
    threads take less than `share` of its CPU in stats.JIT_SETTLED_TURNS turns in a row, or
    for cap_s in all; a settled client waits (paused) while the others go on."""
    found = {name: {"s": 0.0, "turns": 0, "jit_shares": [], "settled": False} for name in clients}
    turns = max(math.ceil(cap_s / SETTLE_TURN_S), bench.JIT_SETTLED_TURNS)
    for _ in range(turns):
        going = [name for name, f in found.items() if not f["settled"]]
        if not going:
            break
        for name in going:
            start_us, end_us, cpu = run_block(clients[name], SETTLE_TURN_S)
            mine = found[name]
            mine["s"] = round(mine["s"] + (end_us - start_us) / 1e6, 2)
            mine["turns"] += 1
            mine["jit_shares"].append(round(bench.jit_share(cpu), 3))
            mine["settled"] = bench.jit_settled(mine["jit_shares"], share)
    return found


def rotate(
    approach: Approach,
    modes: dict[str, Mode],
    rounds: int,
    block_s: float,
    warmup_rounds: int,
    settle_s: float,
    seed: int,
    timeout_s: float,
    folder: Path,
    say: Callable[[str], None],
    during_setup: Callable[[], None] | None = None,
    settle_until: float | None = None,
    settle_cap: float = 1.0,
    server_cpu: Callable[[], int] | None = None,
    drain_s: float = 0.0,
    start_gap_s: float = 0.0,
) -> Rotation:
    """Start a client per mode (`modes`: name -> Mode), run
    `during_setup` meanwhile (in a thread); let each client run its hot path alone for
    `settle_s` in all, in turns (a JIT compiles only while its process runs), then the
    warm-up rounds and the measured ones; then stop every client and wait for its exit.
    With `settle_until` (a share of the client's CPU) a client settles until its JIT
    compiler threads' share of a turn's CPU stays below it (stats.jit_settled), for at
    most settle_cap * settle_s; Rotation.settled says how long each took.
    With `server_cpu` (the server's CPU ns so far), each measured block also counts the
    server's CPU, until `drain_s` after the pause: the server still answers the calls the
    paused client had in flight. `start_gap_s` apart, the clients' set-ups (each creates and
    indexes a collection) do not all wait on Milvus at once."""
    clients: dict[str, Client] = {}
    started = time.monotonic()
    deadline = started + timeout_s
    side = threading.Thread(target=during_setup, daemon=True) if during_setup else None
    try:
        # A set-up that fails (Milvus once took over python/sdk's 15 s to build an index, just
        # after a restart) measured nothing: every client starts again, once.
        for attempt in (1, 2):
            for name, mode in modes.items():
                env = {**mode.env, "DEMO_SCENARIO": str(scenario_copy(SCENARIO_FILE, folder, name)), "OTEL_SERVICE_NAME": service(approach, name)}
                client = f"{approach.slug}-{name}"
                clients[name] = Client.start(client, launch(approach, folder / f"{client}.json", untraced=mode.untraced, env=env), folder, hot_path=True)
                time.sleep(start_gap_s)
            if side and attempt == 1:
                side.start()
            try:
                wait_ready(clients, deadline, say)
                break
            except SetUpFailed as error:
                for started_client in clients.values():
                    started_client.kill()
                if attempt == 2:
                    raise
                say(f"  {error}; starting every client of this rotation again, once")
        if side:
            side.join(max(deadline - time.monotonic(), 0))
        result = Rotation(clients, {name: [] for name in modes}, setup_s=round(time.monotonic() - started, 1))
        # In turns, not one long run each: a client paused mid-call for the others' whole
        # settling would outlast its call's deadline (4 s in Node, 10 s in Java).
        settling = time.monotonic()
        if settle_until is None:
            for _ in range(math.ceil(settle_s / SETTLE_TURN_S)):
                for client in clients.values():
                    run_block(client, SETTLE_TURN_S)
        elif settle_s > 0:
            result.settled = settle(clients, settle_until, settle_cap * settle_s)
        result.settle_s = round(time.monotonic() - settling, 1)
        rounds_started = time.monotonic()
        for number, order in enumerate(bench.schedule(list(modes), warmup_rounds + rounds, seed), start=-warmup_rounds):
            if time.monotonic() > deadline:
                say(f"  timeout after {max(number, 0)} rounds")
                break
            for name in order:
                server_before = server_cpu() if server_cpu else 0
                start_us, end_us, cpu = run_block(clients[name], block_s)
                server_ns = None
                if server_cpu:
                    time.sleep(drain_s)
                    server_ns = server_cpu() - server_before
                if number >= 0:
                    result.periods[name].append(Active(number, start_us, end_us, cpu, server_ns))
            exited = [name for name, client in clients.items() if not client.alive]
            if exited:
                for name in exited:
                    clients[name].finish(1)  # its run record says why
                raise RuntimeError(f"{', '.join(exited)} exited during the rounds: {'; '.join(clients[n].failure() for n in exited)}")
            result.rounds = max(number + 1, 0)
            if number >= 0 and number % 10 == 9:
                say(f"  round {number + 1} of {rounds}")
        result.rounds_s = round(time.monotonic() - rounds_started, 1)
        for client in clients.values():
            client.stop()
        for client in clients.values():
            client.finish(max(deadline - time.monotonic(), 10))
    except BaseException:
        for client in clients.values():  # paused clients must not outlive the bench
            client.kill()
        if side and side.is_alive():
            side.join(timeout_s)  # its own client ends within its timeout
        raise
    return result
