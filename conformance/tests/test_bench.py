"""The bench's pure parts: statistics (stats.py), block cutting (blocks.py), CPU readings
(rotation.py), profile attribution (profile.py), tables (render.py) and its modes' clients."""

from __future__ import annotations

import random
import statistics
from types import SimpleNamespace

import pytest

from conformance.approaches import find, load_all
from conformance.bench import __main__ as bench_main
from conformance.bench import profile as profile_module
from conformance.bench import render as bench_render
from conformance.bench import stats as bench
from conformance.bench.blocks import Active, blocks, cpu_by_thread, in_window, pooled
from conformance.bench.profile import attribute, hot_path_only, profiled, read, summarize
from conformance.bench.profile_formats import READERS
from conformance.bench.rotation import UNBOUNDED, cpu_delta, thread_kind
from conformance.manifest_tables import PROFILE_FORMATS
from conformance.runner import Launch, launch

RPCS = ("Search", "Query")


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert bench.percentile(values, 50) == 2.5
    assert bench.percentile(values, 95) == pytest.approx(3.85)  # 1 + 3 * 0.95
    assert bench.percentile([7.0], 95) == 7.0
    assert values == [4.0, 1.0, 3.0, 2.0]
    with pytest.raises(ValueError):
        bench.percentile([], 50)
    with pytest.raises(ValueError):
        bench.percentile([1.0], 101)


def test_summary():
    assert bench.summary([float(v) for v in range(1, 101)]) == {"n": 100, "p50": 50.5, "p95": 95.05, "min": 1.0, "max": 100.0}


def test_schedule_is_random_and_reproducible():
    modes = ["traced", "untraced", "untraced-again", "trim"]
    order = bench.schedule(modes, 200, seed=7)
    assert order == bench.schedule(modes, 200, seed=7)
    assert order != bench.schedule(modes, 200, seed=8)
    assert all(sorted(round_) == sorted(modes) for round_ in order)
    firsts = {round_[0] for round_ in order}
    assert firsts == set(modes)  # every mode gets to go first


def test_bootstrap_ci_covers_the_mean_of_known_data():
    rng = random.Random(3)
    values = [rng.gauss(10.0, 2.0) for _ in range(400)]
    low, high = bench.bootstrap_ci(values, statistics.fmean)
    # The standard error is 2 / sqrt(400) = 0.1: a 95 % CI is about ±0.196 around the mean.
    assert low < statistics.fmean(values) < high
    assert (high - low) / 2 == pytest.approx(0.196, rel=0.15)
    assert bench.bootstrap_ci(values, statistics.fmean) == (low, high)  # seeded
    assert bench.bootstrap_ci([5.0] * 10, statistics.fmean) == (5.0, 5.0)
    with pytest.raises(ValueError):
        bench.bootstrap_ci([], statistics.fmean)


def block(search: list[float], query: list[float] | None = None, cpu: float | None = 100.0) -> dict:
    return {"calls": {"Search": search, "Query": query or search}, "cpu_us_per_call": cpu}


def test_compare_pairs_blocks_by_round_and_cancels_a_slow_phase():
    # The machine is twice as slow in round 1; traced is 10 % slower in every round.
    untraced = [block([1.0, 1.0, 1.0]), block([2.0, 2.0, 2.0]), None, block([1.0, 1.0, 1.0])]
    traced = [block([1.1, 1.1, 1.1], cpu=130.0), block([2.2, 2.2, 2.2], cpu=130.0), block([9.0] * 3), None]
    figures = bench.compare(traced, untraced, RPCS)
    assert figures["blocks"] == 2  # rounds 2 and 3 lack one of the two
    search = figures["rpcs"]["Search"]
    assert search["p50_ratio"] == {"value": 1.1, "ci": [1.1, 1.1], "half_width": 0.0, "blocks": 2}
    assert search["p50_delta_ms"]["value"] == pytest.approx(0.15)  # (0.1 + 0.2) / 2
    assert search["a"]["n"] == search["b"]["n"] == 6
    assert figures["cpu_us_per_call"]["delta"]["value"] == 30.0
    with pytest.raises(ValueError, match="pair by round"):
        bench.compare(traced, untraced[:2], RPCS)
    with pytest.raises(ValueError, match="no round"):
        bench.compare([None], [block([1.0])], RPCS)


def test_compare_ci_narrows_with_more_blocks():
    rng = random.Random(1)

    def rounds(n: int) -> tuple[list, list]:
        drift = [rng.uniform(0.8, 1.2) for _ in range(n)]  # the machine's speed, per round
        untraced = [block([d * rng.gauss(2.0, 0.05) for _ in range(50)]) for d in drift]
        traced = [block([d * 1.03 * rng.gauss(2.0, 0.05) for _ in range(50)]) for d in drift]
        return traced, untraced

    few, many = (bench.compare(*rounds(n), RPCS)["rpcs"]["Search"]["p50_ratio"] for n in (8, 128))
    assert many["half_width"] < few["half_width"]
    assert many["value"] == pytest.approx(1.03, abs=0.005)
    assert many["half_width"] < 0.01  # pairing removed the ±20 % drift


def test_verdict_needs_the_whole_ci_on_one_side():
    assert bench.verdict({"ci": [1.0, 1.04]}) == "met"
    assert bench.verdict({"ci": [1.06, 1.09]}) == "MISSED"
    assert bench.verdict({"ci": [1.03, 1.07]}) == "unresolved"


# --- cutting the calls into blocks, CPU by thread -----------------------------------------


def test_in_window_keeps_only_calls_that_started_and_ended_inside():
    calls = [(1_000.0, 0.5), (2_000.0, 1.0), (2_500.0, 0.6), (9_000.0, 1.0)]  # (start µs, ms)
    # The call at 2500 µs ends at 3100 µs, after the window; the one at 1000 starts before it.
    assert in_window(calls, 1_500, 3_000) == [1.0]
    assert in_window(calls, 0, 10_000) == [0.5, 1.0, 0.6, 1.0]
    assert in_window(calls, 3_000, 8_000) == []


def client_calls(windows: list[tuple[int, int]], call_us: int = 1_000) -> dict:
    """A client calling Search then Query back to back, only within the windows, plus one call
    in flight across each pause (it starts 200 µs before a window ends)."""
    calls = {"Search": [], "Query": []}
    for start, end in windows:
        t, i = start + 50, 0
        while t + call_us <= end:
            calls[("Search", "Query")[i % 2]].append((float(t), call_us / 1000))
            t, i = t + call_us, i + 1
        calls["Search"].append((float(end - 200), 50.0))  # in flight at the pause: lasts the pause
    return calls


def test_blocks_cut_each_round_exactly_and_drop_short_or_missing_ones():
    windows = [(0, 40_000), (100_000, 140_000), (200_000, 205_000)]
    periods = [Active(r, start, end, {"main": 2_100_000, "exporter": 100_000}) for r, (start, end) in enumerate(windows)]
    found = blocks(client_calls(windows), periods[:1] + periods[2:], RPCS, rounds=4)
    assert found[1] is None  # no block of this client in round 1
    assert found[2] is None  # 5 ms: fewer than MIN_CALLS calls per RPC
    assert found[3] is None  # past the last block
    first = found[0]
    assert len(first["calls"]["Search"]) == 20 and len(first["calls"]["Query"]) == 19  # the call in flight is left out
    assert set(first["calls"]["Search"]) == {1.0}
    assert first["n"] == 39 and first["cpu_us_per_call"] == 55.0  # 2.2 ms over 39 + 1 calls
    assert cpu_by_thread(found) == {"main": 52.5, "exporter": 2.5}


def test_pooled_merges_two_clients_round_by_round():
    a = [block([1.0, 3.0], cpu=100.0), None, None]
    b = [block([2.0], cpu=200.0), block([5.0], cpu=50.0), None]
    for x in a + b:
        if x:
            x.update(n=2, cpu_ns={"main": 1_000})
    both = pooled(a, b)
    assert both[0]["calls"]["Search"] == [1.0, 3.0, 2.0] and bench.percentile(both[0]["calls"]["Search"], 50) == 2.0
    assert both[0]["cpu_us_per_call"] == 150.0 and both[0]["n"] == 4 and both[0]["cpu_ns"] == {"main": 2_000}
    assert both[1] is b[1] and both[2] is None
    with pytest.raises(ValueError):
        pooled(a, b[:2])


def test_cpu_delta_sums_threads_by_kind_and_counts_new_threads_from_zero():
    before = {(1, 1): ("java", 1_000), (1, 2): ("GC Thread#0", 500), (1, 3): ("gone", 70)}
    after = {(1, 1): ("java", 4_000), (1, 2): ("GC Thread#0", 900), (1, 4): ("GC Thread#1", 100), (1, 5): ("C1 CompilerThre", 7)}
    assert cpu_delta(before, after) == {"java": 3_000, "GC Thread#": 500, "C1 CompilerThre": 7}
    assert thread_kind("grpc-default-wo") == "grpc-default-wo"
    assert cpu_delta(after, after) == {}


# --- profiles --------------------------------------------------------------------------

MANIFESTS = load_all()
PY = find(MANIFESTS, "python/sdk").profile.owners


def test_attribute_tells_export_tracing_and_the_work_apart():
    wrapper = "_InterceptorUnaryUnaryMultiCallable.with_call (opentelemetry/instrumentation/grpc/grpcext/_interceptor.py)"
    call = ["hot_path (/w/python/milvus_demo/scenario.py)", "MilvusClient.search (pymilvus/milvus_client.py)", wrapper]
    # The instrumentation wraps the call: what gRPC does below it is the work's ...
    assert attribute([*call, "_channel.__call__ (grpc/_channel.py)", "_run (threading.py)"], PY) == ("work", "_channel.__call__ (grpc/_channel.py)")
    # ... what the wrapper does itself, with the library code it calls, is tracing's.
    assert attribute([*call, "Tracer.start_span (opentelemetry/sdk/trace/__init__.py)", "uuid4 (uuid.py)"], PY)[0] == "tracing"
    # The batch processor's thread is export's, even where it calls gRPC to send.
    worker = ["_bootstrap (threading.py)", "BatchProcessor.worker (opentelemetry/sdk/_shared_internal/__init__.py)"]
    assert attribute([*worker, "_channel.__call__ (grpc/_channel.py)"], PY) == ("export", worker[1])
    assert attribute(["_bootstrap (threading.py)", "wait (threading.py)"], PY) == ("other", None)


def test_summarize_gives_us_per_call_by_category_and_the_frames_that_grew():
    span = "Tracer.start_span (opentelemetry/sdk/trace/__init__.py)"
    work = ["hot_path (/w/milvus_demo/scenario.py)", "_channel.__call__ (grpc/_channel.py)"]
    traced = [(work, 30.0), ([work[0], span], 6.0), (["BatchProcessor.worker (opentelemetry/sdk/_shared_internal/x.py)"], 4.0)]
    untraced = [(work, 30.0), (["gc"], 1.0)]
    found = summarize(traced, untraced, PY, {"traced": 100, "untraced": 200})
    assert found["us_per_call"]["traced"] == {"export": 40.0, "tracing": 60.0, "work": 300.0, "other": 0.0}
    assert found["us_per_call"]["untraced"] == {"export": 0.0, "tracing": 0.0, "work": 150.0, "other": 5.0}
    assert found["tracing_share"] == 0.25
    assert found["tracing_entries"][0] == (span, 60.0)
    assert found["leaf_increase"][0] == ("_channel.__call__ (grpc/_channel.py)", 150.0)
    with pytest.raises(ValueError, match="no call"):
        summarize(traced, untraced, PY, {"traced": 0, "untraced": 1})


def test_hot_path_only_keeps_every_thread_between_the_first_and_last_hot_sample():
    samples = [(["main", "setup"], 1.0, 0.0), (["main", "hotPath x"], 1.0, 5.0), (["exporter"], 1.0, 6.0),
               (["main", "hotPath x"], 1.0, 9.0), (["main", "exit"], 1.0, 12.0)]
    assert hot_path_only(samples, "hotPath ") == [(["main", "hotPath x"], 1.0), (["exporter"], 1.0), (["main", "hotPath x"], 1.0)]
    with pytest.raises(ValueError, match="no sample in the hot path"):
        hot_path_only(samples[:1], "hotPath ")


def test_each_language_profiler_is_put_into_the_command_as_its_manifest_says(tmp_path):
    client = Launch(command=["node", "sdk.js"], cwd=tmp_path, env={"A": "1"}, record=tmp_path / "r.json")
    profile = lambda approach_id: find(MANIFESTS, approach_id).profile  # noqa: E731
    assert profiled(profile("python/sdk"), client, tmp_path) == client  # attached later
    java = profiled(profile("java/agent"), client, tmp_path).env["JAVA_TOOL_OPTIONS"]
    assert java == f"-XX:StartFlightRecording=filename={tmp_path / 'run.jfr'},settings=profile,jdk.ExecutionSample#period=1ms"
    assert profiled(profile("go/otelgrpc"), client, tmp_path).env == {"A": "1", "DEMO_CPU_PROFILE": str(tmp_path / "cpu.pprof")}
    node = profiled(profile("node/sdk"), client, tmp_path)
    assert (node.command, node.env) == (["node", "--cpu-prof", f"--cpu-prof-dir={tmp_path}", "sdk.js"], {"A": "1"})


def test_an_attached_profiler_gets_the_pid_and_the_seconds(tmp_path, monkeypatch):
    started = {}
    monkeypatch.setattr(profile_module.shutil, "which", lambda name, path=None: f"/venv/bin/{name}")
    monkeypatch.setattr(profile_module.subprocess, "Popen", lambda command, **options: started.update(command=command, log=options["stderr"].name))
    client = SimpleNamespace(proc=SimpleNamespace(pid=123))
    profile_module.attach(find(MANIFESTS, "python/sdk").profile, client, tmp_path, 5.5)
    assert started["command"] == ["/venv/bin/py-spy", "record", "--pid", "123", "--duration", "6", "--gil", "--format", "raw",
                                  "--full-filenames", "--rate", "250", "--output", str(tmp_path / "py-spy.txt")]
    assert started["log"] == str(tmp_path / "py-spy.log")


def test_a_profile_is_read_by_its_format_and_the_bench_reads_every_declared_format(tmp_path):
    assert set(READERS) == set(PROFILE_FORMATS)
    settings = find(MANIFESTS, "python/sdk").profile
    (tmp_path / settings.output).write_text("main (/w/x.py:3);f (/v/site-packages/grpc/_channel.py:9) 5\n")
    assert read(settings, tmp_path) == [(["main (/w/x.py)", "f (grpc/_channel.py)"], 20.0)]  # 5 samples 4 ms apart
    with pytest.raises(FileNotFoundError, match=r"no \*\.cpuprofile in"):
        read(find(MANIFESTS, "node/sdk").profile, tmp_path)
    (tmp_path / "x.cpuprofile").write_text('{"nodes": []}')
    with pytest.raises(ValueError, match="not a V8 CPU profile"):
        read(find(MANIFESTS, "node/sdk").profile, tmp_path)


# --- the tables -----------------------------------------------------------------------


def figures(ratio: float, half: float = 0.01) -> dict:
    rpc = {
        "a": bench.summary([2.0 * ratio]), "b": bench.summary([2.0]),
        "p50_ratio": {"value": ratio, "ci": [ratio - half, ratio + half], "half_width": half, "blocks": 30},
        "p95_ratio": {"value": ratio, "ci": [ratio - half, ratio + half], "half_width": half, "blocks": 30},
        "p50_delta_ms": {"value": 2.0 * (ratio - 1), "ci": [2.0 * (ratio - 1) - 0.01, 2.0 * (ratio - 1) + 0.01], "half_width": 0.01, "blocks": 30},
    }
    cpu = {"a": {"value": 500.0, "ci": [490.0, 510.0]}, "b": {"value": 400.0, "ci": [395.0, 405.0]}, "delta": {"value": 100.0, "ci": [90.0, 110.0]}}
    return {"blocks": 30, "rpcs": {"Search": rpc, "Query": rpc}, "cpu_us_per_call": cpu}


def report(ratio: float = 1.02, half: float = 0.01, quick: bool = False) -> dict:
    return {
        "quick": quick,
        "wall_s": 600.0,
        "settings": {"rounds": 36, "block_s": 0.4, "warmup_rounds": 4, "seed": 1, "consistency": "Bounded"},
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 4.0, "load_start": [0.5, 0, 0], "load_end": [0.7, 0, 0]},
        "approaches": {
            "go/otelgrpc": {
                "comparisons": {"traced": figures(ratio, half), "untraced-again": figures(1.0), "deferred-export": figures(1.01)},
                "untraced_checks": {"untraced": {"passed": True}, "untraced-again": {"passed": True}},
                "visibility": {"root_median_s": 0.02, "complete_median_s": 2.0},
                "cpu_by_thread": {"traced": {"otelgrpc": 500.0, "idle": 0.4}, "untraced": {"otelgrpc": 400.0}},
            },
            "node/sdk": {"error": "node/sdk traced: exit status 1"},
        },
        "profiles": {
            "go": {"approach": "go/otelgrpc", "profiler": "pprof", "tracing_share": 0.2, "calls": {"traced": 9000, "untraced": 9500},
                   "us_per_call": {"traced": {"export": 10.0, "tracing": 40.0, "work": 200.0, "other": 5.0},
                                   "untraced": {"export": 0.0, "tracing": 0.0, "work": 198.0, "other": 5.0}},
                   "tracing_entries": [["go.opentelemetry.io/otel/sdk/trace.(*recordingSpan).End", 5.5]],
                   "leaf_increase": [["runtime.mallocgc", 12.5]]},
        },
    }


def test_render_prints_every_table_with_cis_and_verdicts():
    text = bench_render.text(report(ratio=1.08))
    search = next(line for line in text.splitlines() if line.startswith("go/otelgrpc") and "Search" in line)
    assert "1.080 [1.070, 1.090]" in search and search.endswith("MISSED")
    assert "+160 [+150, +170]" in search  # µs
    assert any(line.startswith("node/sdk") and line.endswith("exit status 1") for line in text.splitlines())
    assert any(line.split()[:2] == ["go/otelgrpc", "deferred-export"] for line in text.splitlines())
    assert any(line.split()[:4] == ["go/otelgrpc", "500", "400", "+100"] for line in text.splitlines())
    assert "runtime.mallocgc" in text and "+12.5" in text
    assert any(line.split() == ["tracing", "40", "0", "+40"] for line in text.splitlines())
    assert any(line.split() == ["go/otelgrpc", "otelgrpc", "500", "400", "+100"] for line in text.splitlines())
    assert not any(line.split()[:2] == ["go/otelgrpc", "idle"] for line in text.splitlines())
    assert "machine: Test CPU, 2 cores, 4.0 GB; load 0.50 at start, 0.70 at end" in text
    assert "targets missed or unresolved:" in text
    assert "QUICK RUN" not in text
    assert "targets: all met" in bench_render.text(report())


def test_a_quick_run_says_so_in_text_and_markdown():
    assert bench_render.text(report(quick=True)).startswith("QUICK RUN")
    markdown = bench_render.markdown(report(quick=True))
    assert "QUICK RUN" in markdown and "| go/otelgrpc | Search |" in markdown


def test_misses_name_wide_cis_and_unresolved_ratios():
    assert bench.misses(report()) == []
    found = bench.misses(report(ratio=1.04, half=0.04))
    assert any("unresolved" in line and "A/A 1.000" in line and "cause" not in line for line in found)
    assert any("CI half-width 4.0 % > 3 %" in line for line in found)


def test_a_missed_target_names_its_cause_with_figures():
    line = next(line for line in bench.misses(report(ratio=1.08)) if "MISSED" in line)
    assert "cause: client CPU +100 us/call (CI +90..+110; threads otelgrpc +100)" in line
    assert "profile: 40 us/call in tracing's frames, 10 in export" in line


# --- the intake: approaches by id, each mode's client --------------------------------------


def test_the_bench_takes_approach_ids_and_runs_every_mode_without_the_export_bounds(tmp_path, capsys):
    args = bench_main.parse_args(["--approaches", "java/agent,go/otelgrpc"])
    agent = args.approaches[0]
    assert [approach.id for approach in args.approaches] == ["java/agent", "go/otelgrpc"]
    modes, variants = bench_main.modes_of(agent, args)
    assert list(modes) == ["traced", "untraced", "untraced-again", *find(load_all(), "java/agent").trims] and variants
    assert modes["untraced"].untraced and not modes["traced"].untraced and not modes["no-message-events"].untraced
    for name, mode in modes.items():
        client = launch(agent, tmp_path / f"{name}.json", untraced=mode.untraced, env=mode.env)
        assert not set(UNBOUNDED) & set(client.env), name
    trimmed = launch(agent, tmp_path / "t.json", env=modes["no-message-events"].env)
    assert trimmed.env["OTEL_INSTRUMENTATION_GRPC_EMIT_MESSAGE_EVENTS"] == "false" and trimmed.command == agent.run
    assert launch(agent, tmp_path / "u.json", untraced=True, env=modes["untraced"].env).command == agent.untraced_run
    with pytest.raises(SystemExit):
        bench_main.parse_args(["--approaches", "java/nope"])
    assert "unknown approach 'java/nope'" in capsys.readouterr().err
