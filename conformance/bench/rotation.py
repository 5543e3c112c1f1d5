"""One approach's cost measurement: one long-lived client process per mode (traced,
untraced, the A/A control, trims), taking turns in short blocks.

Why not a process per run: a client run spends 6-15 s starting and setting up the
collection for each few seconds of hot path, and a new process also lands in a new
phase of the machine's drift. Here every mode starts once; the bench pauses all of
them (SIGSTOP) and lets one run at a time for `block_s`, in bench.schedule()'s
randomized order, until every client has finished its DEMO_BENCH_REPEAT iterations.
blocks.py then cuts each client's calls into those blocks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.bench import stats as bench
from conformance.bench.blocks import Active
from conformance.bench.clients import Client

MAX_ROUNDS_FACTOR = 4  # the schedule is this much longer than planned; clients that run slow just use more


@dataclass
class Rotation:
    """What happened to each mode's client: its periods of running, and the wall-clock
    windows (µs) of its measured blocks (for the untraced check)."""

    clients: dict[str, Client]
    periods: dict[str, list[Active]] = field(default_factory=dict)
    windows: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    rounds: int = 0


def scenario_copy(scenario_file: Path, folder: Path, mode: str) -> Path:
    """The scenario with a collection prefix of the mode's own: the clients run at the
    same time, and each drops and creates its collection."""
    scenario = json.loads(scenario_file.read_text())
    scenario["collection_prefix"] = f"{scenario['collection_prefix']}bench_{mode.replace('-', '_')}_"
    path = folder / f"scenario-{mode}.json"
    path.write_text(json.dumps(scenario, indent=2) + "\n")
    return path


def rotate(
    spec: dict,
    modes: dict[str, dict],
    iterations: int,
    planned_rounds: int,
    block_s: float,
    settle_s: float,
    seed: int,
    timeout_s: float,
    folder: Path,
    say: Callable[[str], None],
) -> Rotation:
    """Start a client per mode (`modes`: name -> clients.json's {"command", "env"}), let
    them set up together for settle_s, then run them in turns until all have exited."""
    clients = {}
    try:
        for name, mode in modes.items():
            scenario = scenario_copy(Path(mode["env"]["DEMO_SCENARIO"]), folder, name)
            env = {
                "DEMO_SCENARIO": str(scenario),
                "DEMO_BENCH_REPEAT": str(iterations),
                # Its own service name: the untraced check looks for spans of the untraced ones.
                "OTEL_SERVICE_NAME": f"{spec['service_name']}-bench-{name}",
            }
            clients[name] = Client.start(f"{spec['approach'].replace('/', '-')}-{name}", mode, spec["cwd"], folder, env)
        result = Rotation(clients, {name: [] for name in modes}, {name: [] for name in modes})
        started = time.monotonic()
        deadline = started + timeout_s
        time.sleep(settle_s)  # setting up: connect, create, insert, index, load (mostly waiting for Milvus)
        for name, client in clients.items():
            client.pause()
            result.periods[name].append(Active(None, started, time.monotonic()))
        last = None
        order = bench.schedule(list(modes), planned_rounds * MAX_ROUNDS_FACTOR, seed)
        for number, round_modes in enumerate(order):
            alive = [name for name in round_modes if clients[name].alive]
            if len(alive) <= 1 or time.monotonic() > deadline:
                break
            result.rounds = number + 1
            for name in alive:
                client = clients[name]
                if name == last or not client.alive:
                    continue  # it would run on without a pause: no marker between the two blocks
                cpu_before = client.cpu_ms()
                started_us, resumed = time.time_ns() // 1000, time.monotonic()
                client.run_for(block_s)
                paused = time.monotonic()
                cpu_after = client.cpu_ms()
                cpu = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
                result.periods[name].append(Active(number, resumed, paused, cpu))
                result.windows[name].append((started_us, time.time_ns() // 1000))
                last = name
            if number % 10 == 9:
                say(f"  round {number + 1}: {sum(c.alive for c in clients.values())} of {len(clients)} clients running")
        for name, client in clients.items():
            if client.alive:
                result.periods[name].append(Active(None, time.monotonic(), time.monotonic()))  # the one it exits in
            client.finish(max(deadline - time.monotonic(), 1))
    except BaseException:
        for client in clients.values():  # paused clients must not outlive the bench
            client.kill()
        raise
    return result
