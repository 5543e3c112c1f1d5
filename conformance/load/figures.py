"""The figures of `nox -s load`, from the blocks of each mode's client. Pure: unit-tested.

A block (bench/blocks.py) holds the calls that started and ended inside one turn of the
client; here it also gets the turn's length and the server's CPU. Two modes at one level are
compared round by round, as the bench does: the geometric mean of the per-round ratios and
the mean of the per-round differences, each with a bootstrap 95 % CI over rounds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from conformance.bench import stats
from conformance.bench.blocks import Active
from conformance.bench.clients import RPCS


def with_turns(found: Sequence[dict | None], periods: Sequence[Active], idle_ns_per_s: float = 0.0, drain_s: float = 0.0) -> list[dict | None]:
    """Each block with its turn's seconds, calls per second and server CPU µs per call (less
    the server's idle rate over the block and its drain)."""
    by_round = {p.round: p for p in periods}
    out: list[dict | None] = []
    for number, block in enumerate(found):
        period = by_round.get(number)
        if block is None or period is None:
            out.append(None)
            continue
        seconds = (period.end_us - period.start_us) / 1e6
        server = None
        if period.server_cpu_ns is not None:
            busy_ns = period.server_cpu_ns - idle_ns_per_s * (seconds + drain_s)
            server = round(busy_ns / 1000 / (block["n"] + 1), 1)
        out.append({**block, "seconds": seconds, "calls_per_s": block["n"] / seconds, "server_cpu_us_per_call": server})
    return out


def _ratio(pairs: list[tuple[float, float]]) -> dict | None:
    usable = [(x, y) for x, y in pairs if x > 0 and y > 0]
    return stats.estimate([x / y for x, y in usable], stats.geometric_mean, 4) if len(usable) >= 2 else None


def _mean(values: list[float]) -> dict | None:
    return stats.estimate(values, statistics.fmean, 1) if len(values) >= 2 else None


def compare(a: Sequence[dict | None], b: Sequence[dict | None]) -> dict:
    """Mode A against mode B at one level (with_turns blocks, one per round): throughput ratio,
    p50 and p99 ratio per RPC, client and server CPU per call of each and their difference.
    A figure needs two rounds where both have a block; else it is None."""
    pairs = stats.paired_blocks(a, b)
    result: dict = {"rounds": len(pairs), "throughput_ratio": _ratio([(x["calls_per_s"], y["calls_per_s"]) for x, y in pairs])}
    result["calls_per_s"] = {"a": _mean([x["calls_per_s"] for x, _ in pairs]), "b": _mean([y["calls_per_s"] for _, y in pairs])}
    for rpc in RPCS:
        usable = [(x["calls"][rpc], y["calls"][rpc]) for x, y in pairs if x["calls"].get(rpc) and y["calls"].get(rpc)]
        result[rpc] = {
            f"p{q}_ratio": _ratio([(stats.percentile(x, q), stats.percentile(y, q)) for x, y in usable]) for q in (50, 99)
        }
        pooled_a = [v for x, _ in usable for v in x]
        pooled_b = [v for _, y in usable for v in y]
        result[rpc]["p50_ms"] = {"a": _p50(pooled_a), "b": _p50(pooled_b)}
    for side in ("cpu_us_per_call", "server_cpu_us_per_call"):
        both = [(x[side], y[side]) for x, y in pairs if x.get(side) is not None and y.get(side) is not None]
        result[side] = {"a": _mean([x for x, _ in both]), "b": _mean([y for _, y in both]), "delta": _mean([x - y for x, y in both])}
    return result


def _p50(values: list[float]) -> float | None:
    return round(stats.percentile(values, 50), 3) if values else None


def loss(made: int, received: int) -> dict:
    """Spans that should have reached Jaeger against those that did."""
    lost = max(made - received, 0)
    return {"made": made, "received": received, "lost": lost, "lost_pct": round(100 * lost / made, 2) if made else None}

