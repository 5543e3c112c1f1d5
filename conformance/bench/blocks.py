"""Cutting a client's hot-path calls into the bench's blocks. Pure (unit-tested).

The bench resumes one client at a time for a block and notes when (Unix µs); the
client records each call's start and latency (conformance/SCENARIO.md). A block's
calls are those that started and ended inside its window: a call in flight at a
pause spans two windows and belongs to neither."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_CALLS = 10  # a block with fewer calls per RPC is too short to have a percentile

Calls = dict[str, list[tuple[float, float]]]  # rpc -> [(start Unix µs, latency ms)]


@dataclass(frozen=True)
class Active:
    """One block: its round, the window the client ran in (Unix µs, from before its
    SIGCONT to after all its threads stopped), and the CPU ns its threads spent then,
    by thread name; and, when the caller counts it, the server's CPU ns from just before the
    block to once the server had answered the client's last calls (nox -s load)."""

    round: int
    start_us: int
    end_us: int
    cpu_ns: dict[str, int] = field(default_factory=dict)
    server_cpu_ns: int | None = None


def in_window(calls: Sequence[tuple[float, float]], start_us: float, end_us: float) -> list[float]:
    """The latencies (ms) of the calls that started and ended within [start_us, end_us]."""
    return [ms for started, ms in calls if started >= start_us and started + ms * 1000 <= end_us]


def blocks(calls: Calls, periods: Sequence[Active], rpcs: Sequence[str], rounds: int) -> list[dict | None]:
    """One entry per round: {"calls": {rpc: [ms]}, "cpu_us_per_call": float, "cpu_ns": {thread: ns},
    "n": calls}, or None where the round has no block of this client or too few calls in it.

    CPU per call: the block's CPU over its whole calls plus one, since the CPU also
    covers the ends of the two calls cut by the pauses, together about one call."""
    by_round = {period.round: period for period in periods}
    result: list[dict | None] = []
    for r in range(rounds):
        period = by_round.get(r)
        found = {rpc: in_window(calls.get(rpc, []), period.start_us, period.end_us) for rpc in rpcs} if period else {}
        if not period or any(len(found[rpc]) < MIN_CALLS for rpc in rpcs):
            result.append(None)
            continue
        n = sum(len(v) for v in found.values())
        result.append(
            {
                "calls": found,
                "cpu_us_per_call": round(sum(period.cpu_ns.values()) / 1000 / (n + 1), 1),
                "cpu_ns": period.cpu_ns,
                "n": n,
            }
        )
    return result


def pooled(a: Sequence[dict | None], b: Sequence[dict | None]) -> list[dict | None]:
    """Two clients of the same mode as one, round by round: their calls together, their
    CPU per call averaged (one of them where the other has no block)."""
    out: list[dict | None] = []
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            out.append(x or y)
            continue
        out.append(
            {
                "calls": {rpc: x["calls"][rpc] + y["calls"][rpc] for rpc in x["calls"]},
                "cpu_us_per_call": round((x["cpu_us_per_call"] + y["cpu_us_per_call"]) / 2, 1),
                "cpu_ns": {k: x["cpu_ns"].get(k, 0) + y["cpu_ns"].get(k, 0) for k in x["cpu_ns"].keys() | y["cpu_ns"].keys()},
                "n": x["n"] + y["n"],
            }
        )
    return out


def cpu_by_thread(found: Sequence[dict | None]) -> dict[str, float]:
    """CPU µs per call by thread name, over every block found, largest first."""
    total_ns: dict[str, int] = {}
    calls = 0
    for block in found:
        if block is None:
            continue
        calls += block["n"] + 1
        for name, ns in block["cpu_ns"].items():
            total_ns[name] = total_ns.get(name, 0) + ns
    return {name: round(ns / 1000 / calls, 1) for name, ns in sorted(total_ns.items(), key=lambda kv: -kv[1])} if calls else {}
