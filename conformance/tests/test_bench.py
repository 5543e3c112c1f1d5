"""The bench's statistics: percentiles, A/B ratios and their spread, targets, the table."""

from __future__ import annotations

import copy

import pytest

from conformance import bench


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert bench.percentile(values, 50) == 2.5
    assert bench.percentile(values, 95) == pytest.approx(3.85)  # 1 + 3 * 0.95
    assert bench.percentile(values, 0) == 1.0
    assert bench.percentile(values, 100) == 4.0
    assert bench.percentile([7.0], 95) == 7.0
    assert values == [4.0, 1.0, 3.0, 2.0]


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError):
        bench.percentile([], 50)
    with pytest.raises(ValueError):
        bench.percentile([1.0], 101)


def test_summary():
    assert bench.summary([float(v) for v in range(1, 101)]) == {"n": 100, "p50": 50.5, "p95": 95.05, "min": 1.0, "max": 100.0}


def test_pair_ratios_are_taken_pair_by_pair():
    traced = [[2.0, 2.0, 2.0], [3.0, 3.0, 9.0]]
    untraced = [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]]
    assert bench.pair_ratios(traced, untraced, 50) == [2.0, 1.0]
    with pytest.raises(ValueError, match="pairs"):
        bench.pair_ratios(traced, untraced[:1], 50)


def test_compare_gives_pooled_figures_ratios_and_spread():
    untraced = [[1.0] * 9 + [2.0], [1.2] * 9 + [2.0], [1.1] * 9 + [2.0]]
    traced = [[v * 1.1 for v in run] for run in untraced]
    figures = bench.compare(traced, untraced)
    assert figures["p50_ratio"]["pairs"] == [1.1, 1.1, 1.1]
    assert figures["p50_ratio"]["median"] == figures["p50_ratio"]["min"] == figures["p50_ratio"]["max"] == 1.1
    assert figures["p95_ratio"]["median"] == 1.1
    assert figures["traced"]["n"] == figures["untraced"]["n"] == 30
    assert figures["untraced"]["p50"] == 1.1
    assert figures["p50_delta_ms"] == pytest.approx(0.11)


def test_spread_shows_the_worst_pairs():
    assert bench.spread([1.02, 0.98, 1.10, 1.01]) == {"median": 1.015, "min": 0.98, "max": 1.1}


def test_compare_cpu_pairs_the_runs():
    cpu = bench.compare_cpu([130.0, 150.0, 120.0], [100.0, 100.0, 110.0])
    assert cpu["traced_us"] == 130.0 and cpu["untraced_us"] == 100.0
    assert cpu["delta_us"] == {"median": 30.0, "min": 10.0, "max": 50.0, "pairs": [30.0, 50.0, 10.0]}
    assert cpu["ratio"]["median"] == 1.3
    with pytest.raises(ValueError):
        bench.compare_cpu([1.0], [])


def test_median_or_none_skips_missing_figures():
    assert bench.median_or_none([0.2, None, 0.4]) == 0.3
    assert bench.median_or_none([None]) is None


def report(ratio: float = 1.01, visible: float = 0.3, warm: float = 9.0) -> dict:
    rpc = {
        "traced": {"n": 10, "p50": 1.0 * ratio, "p95": 2.0, "min": 0.5, "max": 3.0},
        "untraced": {"n": 10, "p50": 1.0, "p95": 2.0, "min": 0.5, "max": 3.0},
        "p50_delta_ms": round(ratio - 1.0, 3),
        "p50_ratio": {"median": ratio, "min": ratio - 0.01, "max": ratio + 0.01, "pairs": [ratio]},
        "p95_ratio": {"median": 1.0, "min": 1.0, "max": 1.0, "pairs": [1.0]},
    }
    return {
        "settings": {"repeat": 10, "warmup": 2, "pairs": 1, "consistency": "Bounded"},
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 4.0, "load_start": [0.5, 0, 0], "load_end": [0.7, 0, 0]},
        "approaches": {
            "python": {
                "rpcs": {"Search": rpc, "Query": copy.deepcopy(rpc)},
                "rpcs_all_calls": {"Search": copy.deepcopy(rpc), "Query": copy.deepcopy(rpc)},
                "variants": {"deferred-export": {"settings": {"OTEL_BSP_SCHEDULE_DELAY": "3600000"}, "rpcs": {"Search": rpc}}},
                "untraced_checks": [{"passed": True}, {"passed": True}],
                "visibility": {"runs": [{"root_s": visible}], "root_median_s": visible, "complete_median_s": 6.0},
                "wall_s": {"traced": 12.0, "untraced": 11.0},
                "cpu": bench.compare_cpu([130.0, 150.0], [100.0, 110.0]),
            },
            "go": {"error": "no complete A/B pair"},
        },
        "stack": {
            "cold": {"jaeger_s": 0.3, "milvus_s": 40.0, "total_s": 41.0},
            "warm": [{"jaeger_s": 0.2, "milvus_s": warm, "total_s": warm + 0.3}],
            "warm_median": {"jaeger_s": 0.2, "milvus_s": warm, "total_s": warm + 0.3},
        },
    }


def test_misses_names_each_missed_target_with_its_figure():
    assert bench.misses(report()) == []
    missed = bench.misses(report(ratio=1.2, visible=1.5, warm=12.0))
    assert len(missed) == 4
    assert missed[0].startswith("python Search: traced/untraced p50 1.200 > 1.05 (+0.200 ms per call")
    noisy = report(ratio=1.2)
    noisy["approaches"]["python"]["variants"]["untraced-again"] = {
        "rpcs": {"Search": noisy["approaches"]["python"]["rpcs"]["Search"]}
    }
    assert bench.misses(noisy)[0].endswith("; A/A noise floor 1.200, pairs 1.190-1.210)")
    assert "python: trace visible 1.50 s after exit > 1 s" in missed
    assert "stack: warm start 12.3 s > 10 s" in missed


def test_render_prints_every_table_and_the_verdicts():
    text = bench.render(report(ratio=1.2))
    assert "machine: Test CPU, 2 cores, 4.0 GB; load 0.50 at start, 0.70 at end" in text
    assert "10 x (Search + Query) per run, consistency Bounded, the first 2 calls of each kind left out" in text
    search = next(line for line in text.splitlines() if line.startswith("python") and "Search" in line)
    assert "1.200 (1.190-1.210)" in search and search.endswith("MISSED")
    assert any(line.startswith("go") and line.endswith("no complete A/B pair") for line in text.splitlines())
    assert any(line.startswith("warm median") and line.endswith("met") for line in text.splitlines())
    assert any(line.split()[:3] == ["python", "deferred-export", "Search"] for line in text.splitlines())
    assert any(
        line.startswith("python") and "2/2 runs" in line and "140 / 105 (+35, +30..+40)" in line for line in text.splitlines()
    )
    assert "targets missed:" in text
    assert "targets: all met" in bench.render(report())


def test_table_aligns_columns():
    assert bench.table([["a", "bbb"], ["cc", "d"]], ["h1", "h2"]).splitlines() == ["h1  h2", "--  ---", "a   bbb", "cc  d"]
