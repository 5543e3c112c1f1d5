"""The bench's statistics (bench/stats.py), its block cutting (bench/blocks.py) and its tables (bench/render.py)."""

from __future__ import annotations

import random
import statistics

import pytest

from conformance.bench import render as bench_render
from conformance.bench import stats as bench
from conformance.bench.blocks import Active, blocks, interleave, match

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


def test_schedule_is_random_reproducible_and_never_repeats_a_mode_across_rounds():
    modes = ["traced", "untraced", "untraced-again", "trim"]
    order = bench.schedule(modes, 200, seed=7)
    assert order == bench.schedule(modes, 200, seed=7)
    assert order != bench.schedule(modes, 200, seed=8)
    assert all(sorted(round_) == sorted(modes) for round_ in order)
    assert all(a[-1] != b[0] for a, b in zip(order, order[1:]))
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


# --- cutting the calls into blocks ----------------------------------------------------


def test_interleave_restores_call_order():
    assert interleave({"Search": [1.0, 2.0], "Query": [3.0, 4.0]}, RPCS) == [
        ("Search", 1.0), ("Query", 3.0), ("Search", 2.0), ("Query", 4.0)]
    with pytest.raises(ValueError):
        interleave({"Search": [1.0], "Query": []}, RPCS)


def calls_of(*blocks_ms: list[float], pause_ms: float = 1000.0) -> list[tuple[str, float]]:
    """A client's calls: each block's, after one call that took the pause before it."""
    out = [("Search", 3.0)]  # the settle phase
    for block_ms in blocks_ms:
        out.append(("Query", pause_ms))
        out += [("Search" if i % 2 else "Query", ms) for i, ms in enumerate(block_ms)]
    return out


def periods_of(*rounds: tuple[int | None, float], pause_s: float = 1.0) -> list[Active]:
    out, clock = [], 0.0
    for number, seconds in rounds:
        out.append(Active(number, clock, clock + seconds, 4.2))
        clock += seconds + pause_s
    return out


def test_match_assigns_calls_from_the_end_and_leaves_out_the_exit_block():
    calls = calls_of([10.0] * 20, [10.0] * 20, [10.0] * 20)
    matched = match(calls, periods_of((None, 5.0), (0, 0.2), (1, 0.2), (2, 0.2)))
    assert sorted(matched) == [0, 1]  # round 2 is the block the client exited in
    assert all(len(segment) == 20 for segment in matched.values())


def test_match_ignores_a_stall_shorter_than_the_pause():
    calls = calls_of([10.0] * 10 + [300.0] + [10.0] * 9, [10.0] * 20, [10.0] * 20)
    matched = match(calls, periods_of((None, 5.0), (0, 0.5), (1, 0.2), (2, 0.2)))
    assert len(matched[0]) == 20 and ("Query", 300.0) in matched[0]


def test_match_splits_where_a_pause_fell_between_two_calls():
    calls = [("Search", 3.0), ("Query", 1000.0)] + [("Search", 10.0)] * 40 + [("Query", 1000.0)] + [("Search", 10.0)] * 20
    matched = match(calls, periods_of((None, 5.0), (0, 0.2), (1, 0.2), (2, 0.2)))
    assert sorted(matched) == [0, 1] and len(matched[0]) == len(matched[1]) == 20


def test_blocks_gives_one_entry_per_round_with_cpu_per_call():
    latencies = {"Search": [], "Query": []}
    for _, ms in calls_of([2.0] * 20, [2.0] * 20, [2.0] * 20, pause_ms=900.0):
        latencies["Search" if len(latencies["Search"]) == len(latencies["Query"]) else "Query"].append(ms)
    found = blocks(latencies, periods_of((None, 5.0), (0, 0.04), (1, 0.04), (2, 0.04), pause_s=0.9), RPCS, rounds=3)
    assert found[2] is None
    assert [len(b["calls"]["Search"]) + len(b["calls"]["Query"]) for b in found[:2]] == [20, 20]
    assert found[0]["cpu_us_per_call"] == 200.0  # 4.2 ms over 20 calls and the marker


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
        "settings": {"rounds": 36, "block_s": 0.4, "seed": 1, "consistency": "Bounded"},
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 4.0, "load_start": [0.5, 0, 0], "load_end": [0.7, 0, 0]},
        "approaches": {
            "go/otelgrpc": {
                "comparisons": {"traced": figures(ratio, half), "untraced-again": figures(1.0), "deferred-export": figures(1.01)},
                "untraced_checks": {"untraced": {"passed": True}, "untraced-again": {"passed": True}},
                "visibility": {"root_median_s": 0.02, "complete_median_s": 2.0},
            },
            "node/sdk": {"error": "node/sdk traced: exit status 1"},
        },
        "profiles": {
            "go": {"approach": "go/otelgrpc", "profiler": "pprof", "tracing_share": 0.2, "untraced_tracing_share": 0.0,
                   "ms_per_call": {"traced": 0.5, "untraced": 0.4},
                   "tracing_entries": [["go.opentelemetry.io/otel/sdk/trace.(*recordingSpan).End", 0.05]],
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
    assert any("unresolved" in line and "A/A 1.000" in line for line in found)
    assert any("CI half-width 4.0 % > 3 %" in line for line in found)


def test_table_aligns_columns():
    assert bench_render.table([["a", "bbb"], ["cc", "d"]], ["h1", "h2"]).splitlines() == ["h1  h2", "--  ---", "a   bbb", "cc  d"]
