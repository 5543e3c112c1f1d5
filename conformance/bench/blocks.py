"""Cuts a long-lived client's hot-path calls into the blocks it ran in. Pure, unit-tested.

The client knows nothing of blocks: the bench pauses it (SIGSTOP) between its
blocks, and the call in flight at a pause takes the whole pause as latency. Those
calls, far slower than any real one, are the block boundaries ("markers"). The
client writes its calls only at exit, so the blocks are matched from the end: the
segment after the last marker is the block it exited in, the one before it the
block before, and so on. A segment's summed latency cannot much exceed the time the
bench let its block run; a pause that fell between two calls leaves no marker, and
that check finds and splits the merged segment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_CALLS = 10  # a block with fewer calls is too short to have a percentile
MARKER_SHARE = 0.8  # a call that lasted this share of a pause or more is the pause's marker
TOO_LONG = 1.4  # a segment this much longer than its block spans two: a marker was missed


@dataclass(frozen=True)
class Active:
    """One period the bench let a client run: its round (None: not a measured block),
    when it was resumed and paused (time.monotonic() s), and the CPU time its process
    spent meanwhile."""

    round: int | None
    start: float
    end: float
    cpu_ms: float | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


def interleave(latencies: dict[str, list[float]], rpcs: Sequence[str]) -> list[tuple[str, float]]:
    """The record keeps one list per RPC; the client called them in turn: back to call order."""
    lengths = {len(latencies.get(rpc, [])) for rpc in rpcs}
    if len(lengths) != 1:
        raise ValueError(f"the RPCs' call counts differ ({lengths}): not a complete hot path")
    return [(rpc, latencies[rpc][i]) for i in range(lengths.pop()) for rpc in rpcs]


def match(calls: Sequence[tuple[str, float]], periods: Sequence[Active]) -> dict[int, list[tuple[str, float]]]:
    """The calls (in order) onto the periods the client ran (in time order, the one it
    exited in last) -> {round: the calls between the two markers}, matched from the end.

    The marker of the pause before a period is the last earlier call that lasted most of
    that pause: a stall of the machine is rarely as long as a pause (a block or more)."""
    matched: dict[int, list[tuple[str, float]]] = {}
    end, pending = len(calls), None  # calls[end:] are matched; a marker already found
    for k in range(len(periods) - 1, 0, -1):
        if pending is None:
            pause_ms = (periods[k].start - periods[k - 1].end) * 1000
            marker = end - 1
            while marker >= 0 and calls[marker][1] < MARKER_SHARE * pause_ms:
                marker -= 1
        else:
            marker, pending = pending, None
        if marker < 0:
            break  # the hot path began in this period
        segment = list(calls[marker + 1 : end])
        expected_ms = periods[k].seconds * 1000
        if sum(ms for _, ms in segment) > TOO_LONG * expected_ms and k < len(periods) - 1:
            # No marker for the pause before this period (it fell between two calls):
            # this period's calls are those that fit in it, counted from the end.
            taken, total = 0, 0.0
            while taken < len(segment) and total + segment[-1 - taken][1] <= expected_ms:
                total += segment[-1 - taken][1]
                taken += 1
            segment = segment[len(segment) - taken :]
            end, pending = end - taken, marker
        else:
            end = marker
        if k < len(periods) - 1 and periods[k].round is not None and len(segment) >= MIN_CALLS:
            matched[periods[k].round] = segment
    return matched


def blocks(
    latencies: dict[str, list[float]], periods: Sequence[Active], rpcs: Sequence[str], rounds: int
) -> list[dict | None]:
    """One entry per round: {"calls": {rpc: [ms]}, "cpu_us_per_call": float | None}, or None."""
    matched = match(interleave(latencies, rpcs), periods)
    cpu = {period.round: period.cpu_ms for period in periods if period.round is not None}
    result: list[dict | None] = []
    for r in range(rounds):
        segment = matched.get(r)
        if segment is None:
            result.append(None)
            continue
        # The block's CPU also covers the two marker calls' halves: about one call more.
        cpu_ms = cpu.get(r)
        result.append(
            {
                "calls": {rpc: [ms for name, ms in segment if name == rpc] for rpc in rpcs},
                "cpu_us_per_call": None if cpu_ms is None else round(cpu_ms * 1000 / (len(segment) + 1), 1),
            }
        )
    return result
