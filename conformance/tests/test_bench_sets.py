"""The bench's sets of fresh processes (sets.py), its rounds until the target, its JIT
settling and the spread between processes (stats.py), their options and tables."""

from __future__ import annotations

import os
import random
from types import SimpleNamespace

import pytest

from conformance.bench import __main__ as bench_main
from conformance.bench import render as bench_render
from conformance.bench import stats as bench
from conformance.bench.sets import Plan, pool_sets, set_ratios, stop_reason, widest_half_width
from conformance.tests.test_bench import report

# --- JIT settling ------------------------------------------------------------------------


def test_jit_share_is_the_compiler_threads_share_of_the_turn():
    cpu = {"main": 300, "C2 CompilerThre": 80, "C1 CompilerThre": 20, "GC Thread#": 100}
    assert bench.jit_share(cpu) == 0.2
    assert bench.jit_share({"main": 5}) == 0.0
    assert bench.jit_share({}) == 0.0


def test_a_jit_has_settled_after_enough_quiet_turns_in_a_row():
    assert not bench.jit_settled([0.6, 0.4, 0.1], threshold=0.15, turns=2)
    assert bench.jit_settled([0.6, 0.1, 0.1], threshold=0.15, turns=2)
    assert not bench.jit_settled([0.1], threshold=0.15, turns=2)  # one turn says too little
    assert not bench.jit_settled([0.1, 0.2, 0.1], threshold=0.15, turns=2)


# --- rounds until the target -------------------------------------------------------------


def test_rounds_needed_grow_with_the_square_of_the_half_width():
    assert bench.rounds_needed(0.02, 0.03, 30) == 0
    assert bench.rounds_needed(0.03, 0.03, 30) == 0
    assert bench.rounds_needed(0.06, 0.03, 30) == 102  # 30 * (4 * 1.1 - 1)
    assert bench.rounds_needed(0.0301, 0.03, 30) > 0


def test_the_first_sets_run_their_base_rounds_and_the_last_one_what_the_ci_needs():
    plan = dict(target=0.03, base=12, sets_min=3, most=36)
    # Before any CI, and while more of the first sets follow: the base.
    assert bench.next_set_rounds([], None, left_s=0, round_s=1.0, **plan) == 12
    assert bench.next_set_rounds([12], 0.08, left_s=0, round_s=1.0, **plan) == 12
    # The last of the first sets: the base at least, more within the budget and at most `most`.
    assert bench.next_set_rounds([12, 12], 0.02, left_s=100, round_s=1.0, **plan) == 12
    assert bench.next_set_rounds([12, 12], 0.04, left_s=100, round_s=1.0, **plan) == 23  # 24 * (16/9 * 1.1 - 1) = 22.9
    assert bench.next_set_rounds([12, 12], 0.04, left_s=15, round_s=1.0, **plan) == 15
    assert bench.next_set_rounds([12, 12], 0.04, left_s=0, round_s=1.0, **plan) == 12
    assert bench.next_set_rounds([12, 12], 0.09, left_s=500, round_s=1.0, **plan) == 36


def test_after_the_first_sets_more_run_only_while_needed_and_affordable():
    plan = dict(target=0.03, base=12, sets_min=3, most=36)
    assert bench.next_set_rounds([12, 12, 12], 0.029, left_s=500, round_s=1.0, **plan) == 0  # reached
    assert bench.next_set_rounds([12, 12, 12], 0.05, left_s=5, round_s=1.0, **plan) == 0  # under half a base left
    assert bench.next_set_rounds([12, 12, 12], 0.05, left_s=8, round_s=1.0, **plan) == 8
    assert bench.next_set_rounds([12, 12, 12], 0.031, left_s=500, round_s=1.0, **plan) == 7  # 36 * ((31/30)^2 * 1.1 - 1) = 6.3
    assert bench.next_set_rounds([12, 12, 12], 0.0301, left_s=500, round_s=1.0, **plan) == 6  # at least half a base
    assert bench.next_set_rounds([12, 12, 12], 0.09, left_s=500, round_s=2.0, **plan) == 36
    # No pair in any set yet: the first sets still run, then no more.
    assert bench.next_set_rounds([12, 12], None, left_s=500, round_s=1.0, **plan) == 12
    assert bench.next_set_rounds([12, 12, 12], None, left_s=500, round_s=1.0, **plan) == 0
    # --quick: budget 0, so the base sets only.
    assert bench.next_set_rounds([5], 0.2, target=0.03, base=5, sets_min=2, left_s=-3, round_s=0.6, most=15) == 5
    assert bench.next_set_rounds([5, 5], 0.2, target=0.03, base=5, sets_min=2, left_s=-6, round_s=0.6, most=15) == 0


def test_spread_of_the_sets_ratios_in_percent_of_their_mean():
    found = bench.spread([1.05, 1.10, 1.15])
    assert found == {"values": [1.05, 1.1, 1.15], "range_pct": 9.09, "sd_pct": 4.55}
    assert bench.spread([1.0])["sd_pct"] is None


# --- pooling the sets ----------------------------------------------------------------------


def a_set(rng: random.Random, rounds: int, cost: float, process: float = 1.0) -> dict:
    """One set's blocks: traced `cost` times slower than untraced, the traced process `process` times as slow."""
    drift = [rng.uniform(0.8, 1.2) for _ in range(rounds)]

    def mode(factor: float) -> list:
        return [
            {"calls": {rpc: [d * factor * rng.gauss(2.0, 0.04) for _ in range(40)] for rpc in ("Search", "Query")},
             "cpu_us_per_call": 100.0, "cpu_ns": {"main": 8_000_000}, "n": 80}
            for d in drift
        ]

    return {"traced": mode(cost * process), "untraced": mode(1.0), "untraced-again": mode(1.0)}


def test_sets_pool_round_by_round_and_keep_each_sets_own_ratio():
    rng = random.Random(5)
    per_set = [a_set(rng, 10, 1.05, process) for process in (0.98, 1.0, 1.02)]
    pooled = pool_sets(per_set)
    assert [len(pooled[name]) for name in ("traced", "untraced", "untraced-again")] == [30, 30, 30]
    assert pooled["traced"][10] is per_set[1]["traced"][0]
    spread = set_ratios(per_set, "traced")
    assert set(spread) == {"Search", "Query"}
    low, mid, high = spread["Search"]["values"]
    assert low < mid < high and mid == pytest.approx(1.05, abs=0.01)
    assert spread["Search"]["range_pct"] == pytest.approx(4.0, abs=1.0)  # 1.029 to 1.071
    assert set_ratios(per_set, "untraced-again")["Search"]["range_pct"] < 2
    assert set_ratios(per_set[:1], "traced") == {}  # one set has no spread
    # Pooled, three sets of identical processes narrow the CI; sets whose processes differ widen it.
    same = [a_set(rng, 10, 1.05) for _ in range(3)]
    assert 0 < widest_half_width(pool_sets(same)) < widest_half_width(same[0])
    assert widest_half_width(pooled) > widest_half_width(per_set[1])


def test_no_pair_has_no_half_width():
    rng = random.Random(1)
    found = a_set(rng, 3, 1.05)
    found["traced"] = [None] * 3
    assert widest_half_width(found) is None


def test_the_stop_reason_says_why_with_its_figures():
    plan = Plan(base=12, sets_min=3, target=0.03, budget_s=90, block_s=0.3, warmup_rounds=2, settle_s=0, settle_until=None,
                settle_cap=2, seed=1, timeout_s=300)
    assert stop_reason(0.021, plan, 40.0, 36, 1.1) == "target reached: ±2.1 % <= ±3 % after 36 rounds (40 s)"
    assert stop_reason(0.045, plan, 88.0, 80, 1.1) == (
        "budget spent: ±4.5 % after 80 rounds (88 s of rounds, budget 90 s; a round takes 1.10 s)"
    )
    assert stop_reason(None, plan, 0, 0, 0) == "no complete pair of blocks"


# --- options and tables ------------------------------------------------------------------


def test_the_options_default_to_three_sets_and_a_budget_and_quick_to_two_short_sets():
    args = bench_main.parse_args(["--approaches", "go/otelgrpc"])
    assert (args.processes, args.rounds, args.budget, args.target) == (3, 10, 90.0, 0.03)
    quick = bench_main.parse_args(["--quick", "--approaches", "go/otelgrpc"])
    assert (quick.processes, quick.rounds, quick.budget) == (2, 5, 0.0)
    assert bench_main.parse_args(["--target", "2.5", "--budget", "60", "--processes", "4"]).target == 0.025


@pytest.mark.parametrize("bad", [["--processes", "0"], ["--target", "0"], ["--target", "100"], ["--budget", "-1"], ["--rounds", "1"]])
def test_bad_values_are_refused_in_one_line(bad, capsys):
    with pytest.raises(SystemExit):
        bench_main.parse_args(bad)
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("nox -s bench --: error: want --rounds >= 2") and "--processes >= 1" in error


def with_sets(found: dict) -> dict:
    result = found["approaches"]["go/otelgrpc"]
    for rpc in ("Search", "Query"):
        result["comparisons"]["traced"]["rpcs"][rpc] = dict(result["comparisons"]["traced"]["rpcs"][rpc])
        result["comparisons"]["traced"]["rpcs"][rpc]["p50_ratio_sets"] = bench.spread([1.03, 1.06, 1.08])
        result["comparisons"]["untraced-again"]["rpcs"][rpc] = dict(result["comparisons"]["untraced-again"]["rpcs"][rpc])
        result["comparisons"]["untraced-again"]["rpcs"][rpc]["p50_ratio_sets"] = bench.spread([0.995, 1.005])
    result["sets"] = [
        {"rounds": 12, "settled": {"traced": {"s": 6.5, "settled": True}, "untraced": {"s": 16.0, "settled": False}}},
        {"rounds": 20, "settled": {}},
    ]
    result.update(rounds_s=40.2, precision={"stop": "budget spent: ±4.0 % after 32 rounds (40 s of rounds, budget 40 s; a round takes 1.26 s)"})
    found["targets"] = {"p50_ratio_ci_half_width_max": 0.03}
    return found


def test_the_tables_show_the_sets_spread_the_precision_and_the_settling():
    text = bench_render.text(with_sets(report(ratio=1.06, half=0.04)))
    search = next(line for line in text.splitlines() if line.startswith("go/otelgrpc") and "Search" in line)
    assert "4.7 (2.4): 1.030 1.060 1.080" in search
    assert "1.000 [0.990, 1.010] sets 1.0 %" in search  # the A/A's sets
    row = next(line for line in text.splitlines() if line.startswith("go/otelgrpc") and "12+20" in line)
    assert "4.0" in row and "6.5-16.0, 1 of 2 at the cap" in row and "budget spent" in row
    assert "JIT settled" in bench_render.markdown(with_sets(report()))


def test_a_wide_ci_names_the_sets_spread_and_why_the_rounds_stopped():
    found = with_sets(report(ratio=1.02, half=0.04))
    line = next(line for line in bench.misses(found) if "half-width" in line)
    assert line.startswith("go/otelgrpc Search: p50 ratio CI half-width 4.0 % > 3 %; sets 4.7 % apart (budget spent: ±4.0 %")
    found["quick"] = True
    assert "(quick run: no more rounds)" in next(line for line in bench.misses(found) if "half-width" in line)
    found["targets"]["p50_ratio_ci_half_width_max"] = 0.05  # --target 5
    assert not any("half-width" in line for line in bench.misses(found))


# A client that fails its set-up the first time and then runs: what rotate() does about it.
FLAKY_CLIENT = r"""
if [ ! -e "$MARKER" ]; then
  touch "$MARKER"; echo '{"exit_status": 1, "error": "step create_index failed"}' > "$RECORD"; exit 1
fi
touch "$DEMO_BENCH_CONTROL/ready"
while [ ! -e "$DEMO_BENCH_CONTROL/stop" ]; do sleep 0.01; done
echo '{"exit_status": 0}' > "$RECORD"
"""


@pytest.mark.parametrize("fails", [1, 2], ids=["once-then-runs", "twice-raises"])
def test_a_failed_set_up_starts_every_client_again_once(tmp_path, monkeypatch, fails):
    from conformance.bench import rotation
    from conformance.runner import Launch

    said = []

    def flaky(approach, record, untraced=False, env=None):
        marker = tmp_path / f"{record.stem}.marker"
        if untraced:
            marker.touch()  # only the traced client fails: the untraced one may be killed before it ran
        elif fails == 2 and marker.exists() and not (tmp_path / f"{record.stem}.second").exists():
            (tmp_path / f"{record.stem}.second").touch()
            marker.unlink()  # fails again
        env = {**os.environ, "MARKER": str(marker), "RECORD": str(record)}
        return Launch(["sh", "-c", FLAKY_CLIENT], tmp_path, env, record)

    monkeypatch.setattr(rotation, "launch", flaky)
    approach = SimpleNamespace(slug="fake", service_name=lambda scenario: "fake")
    modes = {"traced": rotation.Mode(), "untraced": rotation.Mode(untraced=True)}
    run = lambda: rotation.rotate(approach, modes, 2, 0.05, 0, 0, 1, 60, tmp_path, said.append)  # noqa: E731
    if fails == 2:
        with pytest.raises(rotation.SetUpFailed, match="exited before its hot path: step create_index failed"):
            run()
        return
    result = run()
    assert result.rounds == 2 and all(client.ok for client in result.clients.values())
    assert len([line for line in said if "starting every client of this rotation again, once" in line]) == 1
