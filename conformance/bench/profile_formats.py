"""The profile files the bench reads, one reader per format (approaches.toml [profile] format,
conformance/APPROACHES.md): each gives (frames root first, weight in ms, time in ms on any
clock or None where the format keeps no time) per sample. A file that is not of its format
is a ValueError naming it."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

Timed = list[tuple[list[str], float, float | None]]


def collapsed(path: Path, period_ms: float) -> Timed:
    """Collapsed stacks, `frame;frame;... count` (py-spy's raw format), a count of samples
    `period_ms` apart; a frame is `function (file:line)`."""
    out = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            # The line is dropped, so a function is one frame, and an installed module's path
            # starts at its package: `function (package/module.py)`.
            frames = [re.sub(r"\(.*site-packages/", "(", re.sub(r":\d+\)$", ")", frame)) for frame in stack.split(";")]
            out.append((frames, int(count) * float(period_ms), None))
    return out


def _fields(path: Path, what: str, read: Callable[[], Timed]) -> Timed:
    """`read`'s samples; a missing or mistyped field of the file is one ValueError naming it."""
    try:
        return read()
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"{path}: not {what} ({type(error).__name__}: {error})") from None


def jfr(path: Path, period_ms: float) -> Timed:
    """A JFR recording, through `jfr print --json --events jdk.ExecutionSample`: one Java stack
    per sample (JIT compiler and GC threads are native, not sampled), `period_ms` apart."""
    result = subprocess.run(
        ["jfr", "print", "--json", "--stack-depth", "128", "--events", "jdk.ExecutionSample", str(path)],
        capture_output=True, text=True, check=True, timeout=300,
    )

    def read() -> Timed:
        out = []
        for event in json.loads(result.stdout)["recording"]["events"]:
            frames = event["values"]["stackTrace"]["frames"]
            # Type names come as pkg/Type: written as Java source writes them, pkg.Type.method.
            names = [f"{f['method']['type']['name'].replace('/', '.')}.{f['method']['name']}" for f in frames]
            taken = datetime.datetime.fromisoformat(event["values"]["startTime"]).timestamp() * 1000
            out.append((names[::-1], float(period_ms), taken))
        return out

    return _fields(path, "a JFR recording's events", read)


def pprof(path: Path, period_ms: float) -> Timed:
    """A pprof CPU profile, through `go tool pprof -traces`: blocks of `weight leaf` then the
    callers, between dashed lines; the weights are in the file."""
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
        out.append((frames[::-1], float(found.group(1)) * units[found.group(2)], None))
    return out


def cpuprofile(path: Path, period_ms: float) -> Timed:
    """A V8 .cpuprofile (node --cpu-prof): a tree of nodes, and the node of each sample with
    the time since the one before (µs); (idle) is no CPU and is left out."""

    def read() -> Timed:
        profile = json.loads(path.read_text())
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

    return _fields(path, "a V8 CPU profile", read)


READERS: dict[str, Callable[[Path, float], Timed]] = {"collapsed": collapsed, "jfr": jfr, "pprof": pprof, "cpuprofile": cpuprofile}
