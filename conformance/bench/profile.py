"""Where a traced client's CPU goes: one approach per language, run traced and untraced
under that language's usual profiler, read as (stack, weight) samples, and summed up
as the frames attributable to tracing.

    python   py-spy record --format raw (wraps the command; PyPI package py-spy)
    java     JFR through JAVA_TOOL_OPTIONS (JDK 17), read back with `jfr print`
    go       the client's DEMO_CPU_PROFILE hook (runtime/pprof), read with `go tool pprof -traces`
    node     node --cpu-prof (Node 20 refuses it in NODE_OPTIONS: added to the command)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from conformance.bench.clients import Client

ITERATIONS = 1000  # hot-path iterations per profiled run: most of its samples
TOP = 8
PY_SPY_RATE = 250  # samples per second
PROFILERS = {"python": "py-spy", "java": "JFR", "go": "pprof", "node": "node --cpu-prof"}
# A frame is tracing's when its name holds one of these.
TRACING = {
    "python": ("opentelemetry",),
    "java": ("io.opentelemetry",),
    "go": ("go.opentelemetry.io",),
    "node": ("@opentelemetry",),
}
Samples = list[tuple[list[str], float]]  # frames root first, weight in ms


def py_spy_samples(path: Path) -> Samples:
    """py-spy's raw (collapsed) format: `frame;frame;... count`, sampled at RATE per second."""
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            # A frame is `function (file:line)`: the line is dropped, so a function is one frame.
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            out.append((frames, int(count) * 1000 / PY_SPY_RATE))
    return out


def jfr_samples(path: Path) -> Samples:
    """`jfr print --json --events jdk.ExecutionSample`: one Java stack per sample (JIT
    compiler and GC threads are native, not sampled); weighted by the 10 ms period."""
    result = subprocess.run(
        ["jfr", "print", "--json", "--stack-depth", "128", "--events", "jdk.ExecutionSample", str(path)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    out = []
    for event in json.loads(result.stdout)["recording"]["events"]:
        frames = event["values"]["stackTrace"]["frames"]
        names = [f"{f['method']['type']['name']}.{f['method']['name']}" for f in frames]
        out.append((names[::-1], 10.0))
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


def cpuprofile_samples(folder: Path) -> Samples:
    """node --cpu-prof: a tree of nodes with hit counts; (idle) is no CPU and is left out."""
    paths = sorted(folder.glob("*.cpuprofile"))
    if not paths:
        raise FileNotFoundError(f"no .cpuprofile in {folder}")
    profile = json.loads(paths[-1].read_text())
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    interval_ms = (profile["endTime"] - profile["startTime"]) / 1000 / max(len(profile["samples"]), 1)
    out = []
    for node_id, node in nodes.items():
        if not node.get("hitCount") or node["callFrame"]["functionName"] == "(idle)":
            continue
        frames, current = [], node_id
        while current is not None:
            frame = nodes[current]["callFrame"]
            frames.append(f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('node_modules/', 1)[-1]}")
            current = parent.get(current)
        out.append((frames[::-1], node["hitCount"] * interval_ms))
    return out


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not found:
        raise FileNotFoundError("py-spy is not installed (the bench session installs it from PyPI)")
    return found


def profiled(language: str, mode: dict, out: Path) -> tuple[dict, Callable[[], Samples]]:
    """The mode's command and env under the language's profiler, and how to read its samples."""
    if language == "python":
        command = [py_spy(), "record", "--format", "raw", "--full-filenames", "--rate", str(PY_SPY_RATE), "--output", str(out / "py-spy.txt"), "--", *mode["command"]]
        return {"command": command, "env": mode["env"]}, lambda: py_spy_samples(out / "py-spy.txt")
    if language == "java":
        options = f"-XX:StartFlightRecording=filename={out / 'run.jfr'},settings=profile"
        return {"command": mode["command"], "env": {**mode["env"], "JAVA_TOOL_OPTIONS": options}}, lambda: jfr_samples(out / "run.jfr")
    if language == "go":
        return {"command": mode["command"], "env": {**mode["env"], "DEMO_CPU_PROFILE": str(out / "cpu.pprof")}}, lambda: pprof_samples(out / "cpu.pprof")
    if language == "node":  # Node 20 refuses --cpu-prof in NODE_OPTIONS: after `node` in the command
        command = [mode["command"][0], "--cpu-prof", f"--cpu-prof-dir={out}", *mode["command"][1:]]
        return {"command": command, "env": mode["env"]}, lambda: cpuprofile_samples(out)
    raise ValueError(f"no profiler for {language}")


def summarize(traced: Samples, untraced: Samples, markers: tuple[str, ...], calls: dict[str, int]) -> dict:
    """Shares of the traced run's samples with a tracing frame on the stack, by the outermost
    such frame (where tracing was entered), and the leaf frames that grew most per call."""
    def is_tracing(frame: str) -> bool:
        return any(marker in frame for marker in markers)

    def share(samples: Samples) -> float:
        total = sum(w for _, w in samples) or 1.0
        return sum(w for frames, w in samples if any(map(is_tracing, frames))) / total

    total = sum(w for _, w in traced) or 1.0
    entries: Counter = Counter()
    for frames, weight in traced:
        entry = next((frame for frame in frames if is_tracing(frame)), None)
        if entry:
            entries[entry] += weight / total
    leaves = {mode: Counter() for mode in ("traced", "untraced")}
    for mode, samples in (("traced", traced), ("untraced", untraced)):
        for frames, weight in samples:
            leaves[mode][frames[-1]] += weight * 1000 / calls[mode]  # µs per hot-path call
    increase = {frame: leaves["traced"][frame] - leaves["untraced"].get(frame, 0.0) for frame in leaves["traced"]}
    return {
        "tracing_share": round(share(traced), 4),
        "untraced_tracing_share": round(share(untraced), 4),
        "ms_per_call": {mode: round(sum(w for _, w in s) / calls[mode], 4) for mode, s in (("traced", traced), ("untraced", untraced))},
        "tracing_entries": [(frame, round(value, 4)) for frame, value in entries.most_common(TOP)],
        "leaf_increase": [(frame, round(value, 1)) for frame, value in sorted(increase.items(), key=lambda kv: -kv[1])[:TOP]],
    }


def profile(spec: dict, approaches: list[str], folder: Path, timeout_s: float, say: Callable[[str], None]) -> dict:
    """The first chosen approach of each language, traced then untraced, profiled."""
    chosen = {}
    for approach in approaches:
        chosen.setdefault(approach.split("/")[0], approach)
    found = {}
    for language, approach in chosen.items():
        if language not in TRACING:
            continue
        samples, calls = {}, {}
        try:
            for mode in ("traced", "untraced"):
                out = folder / f"{approach.replace('/', '-')}-{mode}"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                command, read = profiled(language, spec[approach][mode], out)
                say(f"profile {approach} {mode} ...")
                client = Client.start(f"profile-{approach.replace('/', '-')}-{mode}", command, spec[approach]["cwd"], folder, {"DEMO_BENCH_REPEAT": str(ITERATIONS)})
                client.finish(timeout_s)
                if not client.ok:
                    raise RuntimeError(client.failure())
                samples[mode], calls[mode] = read(), 2 * ITERATIONS
            found[language] = {"approach": approach, "profiler": PROFILERS[language], **summarize(samples["traced"], samples["untraced"], TRACING[language], calls)}
            say(f"profile {approach}: tracing on the stack in {found[language]['tracing_share'] * 100:.1f} % of the traced run's samples")
        except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as error:
            found[language] = {"approach": approach, "error": f"{type(error).__name__}: {error}"}
            say(f"profile {approach}: {found[language]['error']}")
    return found
