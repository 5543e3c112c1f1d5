"""The statistics of `nox -s bench`: percentiles, the randomized block schedule,
paired per-block comparisons with bootstrap confidence intervals, and the target
verdicts. Pure: no I/O, so it is unit-tested (conformance/tests/test_bench.py);
blocks.py cuts the calls into blocks, render.py prints, __main__.py runs.

Why blocks: on a 2-core machine the speed of Milvus and of the client drifts by
10-20 % over seconds. Each mode (traced, untraced, ...) runs in its own long-lived
process, and the processes take turns in short blocks, in a random order each
round; a block of one mode is compared with the same round's block of another, so
a slow phase hits both and cancels out in their ratio."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence

# What we expect, to be measured and reported, never asserted.
RATIO_TARGET = 1.05  # traced / untraced p50 latency, per RPC
HALF_WIDTH_TARGET = 0.03  # the p50 ratio's 95 % CI half-width: the bench resolves 5 % only below this
VISIBLE_TARGET_S = 1.0  # client exit -> root span returned by Jaeger's API
WARM_START_TARGET_S = 10.0  # warm stack start, Jaeger + Milvus

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated linearly between the closest ranks
    (numpy's default, Excel's PERCENTILE.INC)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict:
    """n, p50, p95, min and max of a sample (ms in, ms out, rounded to the µs)."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def median_or_none(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


# --- the schedule -----------------------------------------------------------------


def schedule(modes: Sequence[str], rounds: int, seed: int) -> list[list[str]]:
    """`rounds` rounds, each every mode once in a random order (reproducible with the seed)."""
    rng = random.Random(seed)
    return [rng.sample(list(modes), len(modes)) for _ in range(rounds)]


# --- paired comparisons with a bootstrap CI ---------------------------------------------


def bootstrap_ci(
    values: Sequence[float], statistic: Callable[[Sequence[float]], float], seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap: the central 95 % of `statistic` over resamples (with
    replacement) of `values`. Seeded, so a report is reproducible from its data."""
    if not values:
        raise ValueError("bootstrap of no values")
    rng = random.Random(seed)
    n = len(values)
    estimates = sorted(statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - CONFIDENCE) / 2 * 100
    return percentile(estimates, tail), percentile(estimates, 100 - tail)


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def estimate(values: Sequence[float], statistic: Callable[[Sequence[float]], float], digits: int) -> dict:
    """The statistic of paired per-block figures, its 95 % CI and half-width, and n."""
    low, high = bootstrap_ci(values, statistic)
    return {
        "value": round(statistic(values), digits),
        "ci": [round(low, digits), round(high, digits)],
        "half_width": round((high - low) / 2, digits),
        "blocks": len(values),
    }


def paired_blocks(a: Sequence[dict | None], b: Sequence[dict | None]) -> list[tuple[dict, dict]]:
    """The rounds where both modes have a usable block (one dict per round, None when lost)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} rounds of one mode but {len(b)} of the other: blocks pair by round")
    return [(x, y) for x, y in zip(a, b) if x is not None and y is not None]


def compare(a: Sequence[dict | None], b: Sequence[dict | None], rpcs: Sequence[str]) -> dict:
    """Mode A against mode B, block by block. A block is {"calls": {rpc: [ms, ...]},
    "cpu_us_per_call": float | None}, one per round (None: lost).

    Per RPC: the geometric mean of the per-block p50 (and p95) ratios A/B, the mean
    of the per-block p50 differences (ms), and the pooled p50/p95 of each mode; for
    the client CPU per call, the mean of A, of B and of their per-block difference.
    Every figure carries a bootstrap 95 % CI over blocks (a block pair is resampled
    as one, which keeps the pairing)."""
    pairs = paired_blocks(a, b)
    if not pairs:
        raise ValueError("no round where both modes have a block")
    result: dict = {"blocks": len(pairs), "rpcs": {}}
    for rpc in rpcs:
        usable = [(x["calls"][rpc], y["calls"][rpc]) for x, y in pairs if x["calls"].get(rpc) and y["calls"].get(rpc)]
        if not usable:
            continue
        p50 = [(percentile(x, 50), percentile(y, 50)) for x, y in usable]
        p95 = [(percentile(x, 95), percentile(y, 95)) for x, y in usable]
        result["rpcs"][rpc] = {
            "a": summary([v for x, _ in usable for v in x]),
            "b": summary([v for _, y in usable for v in y]),
            "p50_ratio": estimate([x / y for x, y in p50], geometric_mean, 4),
            "p95_ratio": estimate([x / y for x, y in p95], geometric_mean, 4),
            "p50_delta_ms": estimate([x - y for x, y in p50], statistics.fmean, 4),
        }
    cpu = [(x["cpu_us_per_call"], y["cpu_us_per_call"]) for x, y in pairs]
    cpu = [(x, y) for x, y in cpu if x is not None and y is not None]
    if cpu:
        result["cpu_us_per_call"] = {
            "a": estimate([x for x, _ in cpu], statistics.fmean, 1),
            "b": estimate([y for _, y in cpu], statistics.fmean, 1),
            "delta": estimate([x - y for x, y in cpu], statistics.fmean, 1),
        }
    return result


# --- precision: settled JITs, rounds until the target, the spread between processes ------

JIT_THREAD = "CompilerThre"  # HotSpot's 'C1 CompilerThread0', 'C2 CompilerThread1', cut to 15 characters
JIT_SETTLED_SHARE = 0.15  # the compiler threads' share of a client's CPU in a settling turn ...
JIT_SETTLED_TURNS = 2  # ... below which this many turns in a row mean its JIT has settled


def jit_share(cpu_ns: dict[str, int]) -> float:
    """The compiler threads' share of a client's CPU (ns by thread kind, as rotation.cpu_delta gives)."""
    total = sum(cpu_ns.values())
    return sum(ns for kind, ns in cpu_ns.items() if JIT_THREAD in kind) / total if total else 0.0


def jit_settled(shares: Sequence[float], threshold: float = JIT_SETTLED_SHARE, turns: int = JIT_SETTLED_TURNS) -> bool:
    """The last `turns` turns' JIT shares are all below the threshold."""
    return len(shares) >= turns and all(share < threshold for share in shares[-turns:])


def rounds_needed(half_width: float, target: float, rounds: int) -> int:
    """More rounds for a CI of `rounds` rounds with this half-width to reach the target: a CI
    narrows as 1 / sqrt(rounds), and 10 % more for the estimate's own noise. 0 when reached."""
    if half_width <= target:
        return 0
    return math.ceil(round(rounds * ((half_width / target) ** 2 * 1.1 - 1), 6))


def next_set_rounds(
    done: Sequence[int], half_width: float | None, target: float, base: int, sets_min: int, left_s: float, round_s: float, most: int
) -> int:
    """Rounds of the next set (0: stop), given the rounds of the sets done, the pooled CI's
    widest traced half-width so far (None before the first set), the seconds of rounds the
    budget has left and the seconds a round takes. Every one of the first `sets_min` sets
    runs at least `base` rounds; the last of them, and any further set, runs what the CI
    still needs, within the budget and at most `most` rounds (one process must not weigh
    more than a few others), and is not started for fewer than base / 2 rounds. Without a
    CI after the first sets_min sets (no round with a pair), no more."""
    if len(done) + 1 < sets_min or (half_width is None and len(done) < sets_min):
        return base
    if half_width is None:
        return 0  # no pair in all the first sets: more of the same would not help
    extra = rounds_needed(half_width, target, sum(done))
    can = int(max(left_s, 0) // round_s) if round_s > 0 else most
    if len(done) + 1 == sets_min:
        return max(base, min(extra, can, most))
    if extra == 0 or can < max(base // 2, 2):
        return 0
    return min(max(extra, base // 2), can, most)


def spread(values: Sequence[float]) -> dict:
    """Per-set figures (ratios) and how far apart they lie: their range and SD in % of their mean."""
    mean = statistics.fmean(values)
    return {
        "values": [round(v, 4) for v in values],
        "range_pct": round((max(values) - min(values)) / mean * 100, 2),
        "sd_pct": round(statistics.stdev(values) / mean * 100, 2) if len(values) > 1 else None,
    }


# --- verdicts -------------------------------------------------------------------------


def verdict(ratio: dict) -> str:
    """met / MISSED when the whole CI is on one side of the target, else unresolved."""
    if ratio["ci"][1] <= RATIO_TARGET:
        return "met"
    if ratio["ci"][0] > RATIO_TARGET:
        return "MISSED"
    return "unresolved"


THREAD_ROWS = 4


def thread_growth(by_mode: dict[str, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(thread kind, traced, untraced µs per call) of the THREAD_ROWS kinds that grew most,
    leaving out those that idle (under 1 µs per call in both)."""
    traced, untraced = by_mode.get("traced") or {}, by_mode.get("untraced") or {}
    busy = {k for k in set(traced) | set(untraced) if max(traced.get(k, 0.0), untraced.get(k, 0.0)) >= 1}
    kinds = sorted(busy, key=lambda k: untraced.get(k, 0.0) - traced.get(k, 0.0))
    return [(kind, traced.get(kind, 0.0), untraced.get(kind, 0.0)) for kind in kinds[:THREAD_ROWS]]


def cause(report: dict, approach: str) -> str:
    """Where a traced client's added time goes, with figures: its added CPU per call and the
    threads it ran on, and the profile's tracing frames when this approach was profiled."""
    result = report["approaches"][approach]
    delta = (((result.get("comparisons") or {}).get("traced") or {}).get("cpu_us_per_call") or {}).get("delta")
    parts = []
    if delta:
        threads = ", ".join(f"{kind} {t - u:+.0f}" for kind, t, u in thread_growth(result.get("cpu_by_thread") or {})[:2])
        parts.append(f"client CPU {delta['value']:+.0f} us/call (CI {delta['ci'][0]:+.0f}..{delta['ci'][1]:+.0f}; threads {threads})")
    found = (report.get("profiles") or {}).get(approach.split("/")[0]) or {}
    if found.get("approach") == approach and "us_per_call" in found:
        traced = found["us_per_call"]["traced"]
        parts.append(f"profile: {traced['tracing']:.0f} us/call in tracing's frames, {traced['export']:.0f} in export")
    return f"; cause: {'; '.join(parts)}" if parts else ""


def misses(report: dict) -> list[str]:
    """Each target the report misses or cannot resolve, as one line with its figure."""
    found = []
    target = (report.get("targets") or {}).get("p50_ratio_ci_half_width_max", HALF_WIDTH_TARGET)
    for approach, result in report.get("approaches", {}).items():
        floor = ((result.get("comparisons") or {}).get("untraced-again") or {}).get("rpcs", {})
        stop = (result.get("precision") or {}).get("stop")
        for rpc, figures in ((result.get("comparisons") or {}).get("traced") or {}).get("rpcs", {}).items():
            ratio = figures["p50_ratio"]
            shown = f"p50 ratio {ratio['value']:.3f} (CI {ratio['ci'][0]:.3f}-{ratio['ci'][1]:.3f})"
            aa = floor.get(rpc, {}).get("p50_ratio")
            context = f"; +{figures['p50_delta_ms']['value'] * 1000:.0f} us" + (
                f"; A/A {aa['value']:.3f} (CI {aa['ci'][0]:.3f}-{aa['ci'][1]:.3f})" if aa else ""
            )
            if verdict(ratio) != "met":
                why = cause(report, approach) if verdict(ratio) == "MISSED" else ""
                found.append(f"{approach} {rpc}: {shown} {verdict(ratio)} against <= {RATIO_TARGET}{context}{why}")
            if ratio["half_width"] > target:
                sets = figures.get("p50_ratio_sets")
                found.append(
                    f"{approach} {rpc}: p50 ratio CI half-width {ratio['half_width'] * 100:.1f} % > {target * 100:g} %"
                    + (f"; sets {sets['range_pct']:.1f} % apart" if sets else "")
                    + (f" ({'quick run: no more rounds' if report.get('quick') and stop.startswith('budget') else stop})" if stop else "")
                )
        visible = (result.get("visibility") or {}).get("root_median_s")
        if visible is not None and visible > VISIBLE_TARGET_S:
            found.append(f"{approach}: trace visible {visible:.2f} s after exit > {VISIBLE_TARGET_S:g} s")
    warm = (report.get("stack") or {}).get("warm_median") or {}
    if warm.get("total_s") is not None and warm["total_s"] > WARM_START_TARGET_S:
        found.append(f"stack: warm start {warm['total_s']:.1f} s > {WARM_START_TARGET_S:g} s")
    return found
