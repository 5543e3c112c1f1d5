"""Where a traced client's CPU goes: one approach per language, a traced and an untraced
client side by side, each profiled with the profiler its language folder declares
(approaches.toml [profile], conformance/APPROACHES.md) during its hot path only (PROFILE_S
seconds), read as (stack, weight) samples (profile_formats.py), and summed up as the frames
attributable to tracing, by the frame markers of the same [profile].
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from conformance.approaches import Approach, Profile
from conformance.bench.blocks import in_window
from conformance.bench.clients import RPCS, Client
from conformance.bench.profile_formats import READERS, Timed
from conformance.bench.rotation import scenario_copy, wait_ready
from conformance.paths import SCENARIO_FILE
from conformance.runner import Launch, launch

PROFILE_S = 6.0  # of hot path per profiled client
TOP = 8
# Whose work a frame is, by the language's markers ([profile.owners]): tracing's export,
# tracing's in the call path, or the work's own. Any other frame (runtime, standard library,
# protobuf, GC) works for the nearest of these above it; a stack with none is "other".
CATEGORIES = ("export", "tracing", "work", "other")
Samples = list[tuple[list[str], float]]  # frames root first, weight in ms


def hot_path_only(samples: Timed, marker: str) -> Samples:
    """The samples (of any thread) taken from the first to the last one with `marker` on its stack."""
    times = [t for frames, _, t in samples if any(marker in frame for frame in frames)]
    if not times:
        raise ValueError(f"no sample in the hot path ({marker!r})")
    return [(frames, weight) for frames, weight, t in samples if min(times) <= t <= max(times)]


def placeholders(settings: Profile, out: Path, **more) -> dict:
    """What a [profile] template may name: {out}, {output}, {period_ms}, {rate}, and more."""
    return {"out": out, "output": out / settings.output, "period_ms": settings.period_ms, "rate": round(1000 / settings.period_ms), **more}


def profiled(settings: Profile, client: Launch, out: Path) -> Launch:
    """The client with the profiler's arguments (after the program) and settings; an attached
    profiler starts later (attach)."""
    values = placeholders(settings, out)
    command = client.command
    if settings.arguments:
        command = [command[0], *(arg.format(**values) for arg in settings.arguments), *command[1:]]
    return replace(client, command=command, env={**client.env, **{key: value.format(**values) for key, value in settings.env.items()}})


def read(settings: Profile, out: Path) -> Samples:
    """The hot path's samples in what the profiler wrote to `out` (its newest match of `output`)."""
    paths = sorted(out.glob(settings.output))
    if not paths:
        raise FileNotFoundError(f"no {settings.output} in {out}")
    samples = READERS[settings.format](paths[-1], settings.period_ms)
    if settings.hot_path is None:
        return [(frames, weight) for frames, weight, _ in samples]
    if any(t is None for _, _, t in samples):
        raise ValueError(f"{settings.format} keeps no sample times: no hot path to keep")
    return hot_path_only(samples, settings.hot_path)


def attach(settings: Profile, client: Client, out: Path, seconds: float) -> subprocess.Popen:
    """The attached profiler sampling the client (a running hot path) for `seconds`, then writing
    its samples; its own messages go to out/<program>.log."""
    name = settings.attach[0]
    program = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not program:
        raise FileNotFoundError(f"{name} is not installed" + (" (the bench session installs it from PyPI)" if settings.install else ""))
    values = placeholders(settings, out, pid=client.proc.pid, seconds=math.ceil(seconds))
    command = [program, *(arg.format(**values) for arg in settings.attach[1:])]
    log = (out / f"{Path(name).name}.log").open("w")
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


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


def profile_pair(approach: Approach, folder: Path, timeout_s: float, say: Callable[[str], None]) -> dict:
    """A traced and an untraced client of the approach, set up together, then profiled
    side by side for PROFILE_S seconds of hot path."""
    settings, slug = approach.profile, approach.id.replace("/", "-")
    clients, outs, spies = {}, {}, {}
    try:
        for mode in ("traced", "untraced"):
            outs[mode] = out = folder / f"{slug}-{mode}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            name = f"profile-{slug}-{mode}"
            scenario = scenario_copy(SCENARIO_FILE, folder, name)  # a collection of its own
            client = launch(approach, folder / f"{name}.json", untraced=mode == "untraced", env={"DEMO_SCENARIO": str(scenario)})
            clients[mode] = Client.start(name, profiled(settings, client, out), folder, hot_path=True)
        say(f"profile {approach.id}: traced and untraced set up ...")
        wait_ready(clients, time.monotonic() + timeout_s, say)  # paused, then told to go
        started_us = time.time_ns() // 1000
        for mode, client in clients.items():
            client.resume()
            if settings.attach:
                spies[mode] = attach(settings, client, outs[mode], PROFILE_S)
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
        "approach": approach.id,
        "profiler": settings.profiler,
        "calls": calls,
        **summarize(read(settings, outs["traced"]), read(settings, outs["untraced"]), settings.owners, calls),
    }


def profile(approaches: list[Approach], folder: Path, timeout_s: float, say: Callable[[str], None]) -> dict:
    """The first chosen approach of each language whose folder declares a profiler, profiled
    traced and untraced."""
    chosen: dict[str, Approach] = {}
    for approach in approaches:
        chosen.setdefault(approach.language, approach)
    found = {}
    for language, approach in chosen.items():
        if approach.profile is None:
            continue
        try:
            found[language] = profile_pair(approach, folder, timeout_s, say)
            say(f"profile {approach.id}: tracing on the stack in {found[language]['tracing_share'] * 100:.1f} % of the traced client's samples")
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
            found[language] = {"approach": approach.id, "error": f"{type(error).__name__}: {error}"}
            say(f"profile {approach.id}: {found[language]['error']}")
    return found
