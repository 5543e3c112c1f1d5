"""Where a traced client's CPU goes: one approach per language, a traced and an untraced
client side by side, each profiled with that language's usual profiler during its hot
path only (PROFILE_S seconds), read as (stack, weight) samples, and summed up as the
frames attributable to tracing.

    python   py-spy record --gil --pid, attached once the hot path began (PyPI package py-spy)
    java     JFR through JAVA_TOOL_OPTIONS (JDK 17), read back with `jfr print`; the
             samples between the first and the last one in the hot path (demo.Bench.run)
    go       the client's DEMO_CPU_PROFILE hook (runtime/pprof around the hot path), read
             with `go tool pprof -traces`
    node     node --cpu-prof (Node 20 refuses it in NODE_OPTIONS: added to the command);
             the samples between the first and the last one in hotPath
"""

from __future__ import annotations

import datetime
import json
import math
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from conformance.approaches import Approach
from conformance.bench.blocks import in_window
from conformance.bench.clients import RPCS, Client
from conformance.bench.rotation import scenario_copy, wait_ready
from conformance.paths import SCENARIO_FILE
from conformance.runner import Launch, launch

PROFILE_S = 6.0  # of hot path per profiled client
TOP = 8
PY_SPY_RATE = 250  # samples per second
JFR_PERIOD_MS = 1  # between two samples of a thread running Java code (profile.jfc's is 10)
PROFILERS = {"python": "py-spy", "java": "JFR", "go": "pprof", "node": "node --cpu-prof"}
# Whose work a frame is, by a part of its name: tracing's export (the batch processor and
# the exporter, with everything they call), tracing's in the call path (spans, context,
# propagation, the instrumentation's wrappers), or the work's own (the gRPC library, the
# Milvus SDK, the client). Any other frame (runtime, standard library, protobuf, GC) works
# for the nearest of these above it; a stack with none is "other". Tracing's markers are
# tried first: an instrumentation's own path can hold the library's name.
OWNERS = {
    "python": {
        "export": ("opentelemetry/sdk/_shared_internal", "opentelemetry/sdk/trace/export", "opentelemetry/exporter"),
        "tracing": ("opentelemetry",),
        "work": ("(grpc/", "(pymilvus/", "milvus_demo/"),
    },
    "java": {
        "export": ("io.opentelemetry.sdk.trace.export", "io.opentelemetry.exporter", "okhttp3"),
        "tracing": ("io.opentelemetry",),
        "work": ("io.grpc", "io.milvus", "demo."),
    },
    "go": {
        "export": ("go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor)", "go.opentelemetry.io/otel/exporters"),
        "tracing": ("go.opentelemetry.io", "google.golang.org/grpc/stats/opentelemetry"),
        "work": ("google.golang.org/grpc", "github.com/milvus-io", "milvus-otel-demo"),
    },
    "node": {
        "export": ("@opentelemetry/sdk-trace/build/src/export", "@opentelemetry/otlp", "@opentelemetry/exporter"),
        "tracing": ("@opentelemetry",),
        "work": ("@grpc/grpc-js", "@zilliz", "/nodejs/"),
    },
}
CATEGORIES = ("export", "tracing", "work", "other")
# A frame of the hot path, where a profile has samples from the whole run (java, node).
HOT_PATH = {"java": "demo.Bench.run", "node": "hotPath "}
Samples = list[tuple[list[str], float]]  # frames root first, weight in ms
Timed = list[tuple[list[str], float, float]]  # ... and when it was taken (any clock, ms)


def hot_path_only(samples: Timed, marker: str) -> Samples:
    """The samples (of any thread) taken from the first to the last one with `marker` on its stack."""
    times = [t for frames, _, t in samples if any(marker in frame for frame in frames)]
    if not times:
        raise ValueError(f"no sample in the hot path ({marker!r})")
    return [(frames, weight) for frames, weight, t in samples if min(times) <= t <= max(times)]


def py_spy_samples(path: Path) -> Samples:
    """py-spy's raw (collapsed) format: `frame;frame;... count`, sampled at RATE per second."""
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            # A frame is `function (file:line)`: the line is dropped, so a function is one frame, and
            # an installed module's path starts at its package: `function (package/module.py)`.
            frames = [re.sub(r"\(.*site-packages/", "(", re.sub(r":\d+\)$", ")", frame)) for frame in stack.split(";")]
            out.append((frames, int(count) * 1000 / PY_SPY_RATE))
    return out


def jfr_samples(path: Path) -> Timed:
    """`jfr print --json --events jdk.ExecutionSample`: one Java stack per sample (JIT
    compiler and GC threads are native, not sampled); weighted by the sampling period."""
    result = subprocess.run(
        ["jfr", "print", "--json", "--stack-depth", "128", "--events", "jdk.ExecutionSample", str(path)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    out = []
    for event in json.loads(result.stdout)["recording"]["events"]:
        frames = event["values"]["stackTrace"]["frames"]
        # Type names come as demo/Bench: as the Java source writes them, demo.Bench.run.
        names = [f"{f['method']['type']['name'].replace('/', '.')}.{f['method']['name']}" for f in frames]
        taken = datetime.datetime.fromisoformat(event["values"]["startTime"]).timestamp() * 1000
        out.append((names[::-1], float(JFR_PERIOD_MS), taken))
    return out


def pprof_samples(path: Path) -> Samples:
    """`go tool pprof -traces`: blocks of `weight leaf` then the callers, between dashed lines."""
    result = subprocess.run(["go", "tool", "pprof", "-traces", str(path)], capture_output=True, text=True, check=True, timeout=300)
    units = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0}
    out = []
    for block in re.split(r"^-+\+-+$", result.stdout, flags=re.MULTILINE)[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        found = re.match(r"\s*([\d.]+)(ns|us|µs|ms|s)\s+(.*)", lines[0])
        if not found:
            continue
        frames = [found.group(3).strip()] + [line.strip() for line in lines[1:]]
        out.append((frames[::-1], float(found.group(1)) * units[found.group(2)]))
    return out


def cpuprofile_samples(folder: Path) -> Timed:
    """node --cpu-prof: a tree of nodes, and the node of each sample with the time since the
    one before (µs); (idle) is no CPU and is left out."""
    paths = sorted(folder.glob("*.cpuprofile"))
    if not paths:
        raise FileNotFoundError(f"no .cpuprofile in {folder}")
    profile = json.loads(paths[-1].read_text())
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    interval_ms = (profile["endTime"] - profile["startTime"]) / 1000 / max(len(profile["samples"]), 1)
    stacks: dict[int, list[str]] = {}

    def stack(node_id: int) -> list[str]:
        if node_id not in stacks:
            frames, current = [], node_id
            while current is not None:
                frame = nodes[current]["callFrame"]
                frames.append(f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('node_modules/', 1)[-1]}")
                current = parent.get(current)
            stacks[node_id] = frames[::-1]
        return stacks[node_id]

    out, clock = [], profile["startTime"]
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        clock += delta
        if nodes[node_id]["callFrame"]["functionName"] != "(idle)":
            out.append((stack(node_id), interval_ms, clock / 1000))
    return out


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not found:
        raise FileNotFoundError("py-spy is not installed (the bench session installs it from PyPI)")
    return found


def profiled(language: str, client: Launch, out: Path) -> tuple[Launch, Callable[[], Samples]]:
    """The client under the language's profiler (Python's is attached later, attach_py_spy),
    and how to read its hot path's samples."""
    if language == "python":
        return client, lambda: py_spy_samples(out / "py-spy.txt")
    if language == "java":
        options = f"-XX:StartFlightRecording=filename={out / 'run.jfr'},settings=profile,jdk.ExecutionSample#period={JFR_PERIOD_MS}ms"
        return replace(client, env={**client.env, "JAVA_TOOL_OPTIONS": options}), lambda: hot_path_only(
            jfr_samples(out / "run.jfr"), HOT_PATH["java"]
        )
    if language == "go":
        return replace(client, env={**client.env, "DEMO_CPU_PROFILE": str(out / "cpu.pprof")}), lambda: pprof_samples(out / "cpu.pprof")
    if language == "node":  # Node 20 refuses --cpu-prof in NODE_OPTIONS: after `node` in the command
        command = [client.command[0], "--cpu-prof", f"--cpu-prof-dir={out}", *client.command[1:]]
        return replace(client, command=command), lambda: hot_path_only(cpuprofile_samples(out), HOT_PATH["node"])
    raise ValueError(f"no profiler for {language}")


def attach_py_spy(client: Client, out: Path, seconds: float) -> subprocess.Popen:
    """py-spy sampling the client (a running hot path) for `seconds`, then writing its samples."""
    # --gil: only the thread holding the GIL, so Python's CPU; without it, py-spy also counts
    # threads that wait (the batch processor's Condition.wait) when it cannot tell they are idle.
    command = [py_spy(), "record", "--pid", str(client.proc.pid), "--duration", str(math.ceil(seconds)), "--gil", "--format", "raw",
               "--full-filenames", "--rate", str(PY_SPY_RATE), "--output", str(out / "py-spy.txt")]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=(out / "py-spy.log").open("w"), start_new_session=True)


def owner(frame: str, owners: dict[str, tuple[str, ...]]) -> str | None:
    return next((kind for kind, markers in owners.items() if any(m in frame for m in markers)), None)


def attribute(frames: list[str], owners: dict[str, tuple[str, ...]]) -> tuple[str, str | None]:
    """(category, the frame that decided it) of one sample's stack, root first."""
    kinds = [owner(frame, owners) for frame in frames]
    if "export" in kinds:
        return "export", frames[kinds.index("export")]
    for frame, kind in zip(reversed(frames), reversed(kinds)):
        if kind:
            return kind, frame
    return "other", None


def summarize(traced: Samples, untraced: Samples, owners: dict[str, tuple[str, ...]], calls: dict[str, int]) -> dict:
    """Per mode, CPU µs per hot-path call by category (export, tracing in the call path, the
    work, other); the tracing frames that took most of the traced client's; the leaf frames
    that grew most per call."""
    categories, entries = {}, Counter()
    leaves = {mode: Counter() for mode in ("traced", "untraced")}
    for mode, samples in (("traced", traced), ("untraced", untraced)):
        if not calls[mode]:
            raise ValueError(f"the {mode} client made no call while profiled")
        per = Counter()
        for frames, weight in samples:
            us = weight * 1000 / calls[mode]
            kind, frame = attribute(frames, owners)
            per[kind] += us
            leaves[mode][frames[-1]] += us
            if mode == "traced" and kind in ("export", "tracing"):
                entries[frame] += us
        categories[mode] = {kind: round(float(per[kind]), 1) for kind in CATEGORIES}
    increase = {frame: leaves["traced"][frame] - leaves["untraced"].get(frame, 0.0) for frame in leaves["traced"]}
    return {
        "us_per_call": categories,
        "tracing_share": round(sum(categories["traced"][k] for k in ("export", "tracing")) / (sum(categories["traced"].values()) or 1), 4),
        "tracing_entries": [(frame, round(us, 1)) for frame, us in entries.most_common(TOP)],
        "leaf_increase": [(frame, round(value, 1)) for frame, value in sorted(increase.items(), key=lambda kv: -kv[1])[:TOP]],
    }


def profile_pair(chosen: Approach, folder: Path, timeout_s: float, say: Callable[[str], None]) -> dict:
    """A traced and an untraced client of the approach, set up together, then profiled
    side by side for PROFILE_S seconds of hot path."""
    language, approach = chosen.language, chosen.id
    clients, reads, spies = {}, {}, {}
    try:
        for mode in ("traced", "untraced"):
            out = folder / f"{approach.replace('/', '-')}-{mode}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            name = f"profile-{approach.replace('/', '-')}-{mode}"
            scenario = scenario_copy(SCENARIO_FILE, folder, name)  # a collection of its own
            client = launch(chosen, folder / f"{name}.json", untraced=mode == "untraced", env={"DEMO_SCENARIO": str(scenario)})
            client, reads[mode] = profiled(language, client, out)
            clients[mode] = Client.start(name, client, folder, hot_path=True)
        say(f"profile {approach}: traced and untraced set up ...")
        wait_ready(clients, time.monotonic() + timeout_s, say)  # paused, then told to go
        started_us = time.time_ns() // 1000
        for mode, client in clients.items():
            client.resume()
            if language == "python":
                spies[mode] = attach_py_spy(client, folder / f"{approach.replace('/', '-')}-{mode}", PROFILE_S)
        time.sleep(PROFILE_S)
        ended_us = time.time_ns() // 1000
        for spy in spies.values():
            spy.wait(timeout=PROFILE_S + 30)
        for client in clients.values():
            client.stop()
        for client in clients.values():
            client.finish(timeout_s)
            if not client.ok:
                raise RuntimeError(client.failure())
    finally:  # nothing outlives the bench
        for client in clients.values():
            if client.alive:
                client.kill()
        for spy in spies.values():
            if spy.poll() is None:
                spy.kill()
    calls = {mode: sum(len(in_window(v, started_us, ended_us)) for v in client.calls(RPCS).values()) for mode, client in clients.items()}
    return {
        "approach": approach,
        "profiler": PROFILERS[language],
        "calls": calls,
        **summarize(reads["traced"](), reads["untraced"](), OWNERS[language], calls),
    }


def profile(approaches: list[Approach], folder: Path, timeout_s: float, say: Callable[[str], None]) -> dict:
    """The first chosen approach of each language, profiled traced and untraced."""
    chosen: dict[str, Approach] = {}
    for approach in approaches:
        chosen.setdefault(approach.language, approach)
    found = {}
    for language, first in chosen.items():
        approach = first.id
        if language not in OWNERS:
            continue
        try:
            found[language] = profile_pair(first, folder, timeout_s, say)
            say(f"profile {approach}: tracing on the stack in {found[language]['tracing_share'] * 100:.1f} % of the traced client's samples")
        except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as error:
            found[language] = {"approach": approach, "error": f"{type(error).__name__}: {error}"}
            say(f"profile {approach}: {found[language]['error']}")
    return found
