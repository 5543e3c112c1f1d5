"""Sets: one approach's modes measured in several rounds of fresh processes, until its
traced p50 ratios are precise enough or its time budget is spent.

One rotation (rotation.py) runs one process per mode; a ratio's CI covers the blocks of
those processes, not the luck of the next ones (two identical untraced processes differ
by up to ~3 %). So each approach runs `sets_min` sets, each a rotation of fresh clients,
and the rounds of all sets are pooled for the CI; each set's own p50 ratio is kept, and
their spread (range, SD) is reported next to the CI as the between-process effect.

After each set the pooled CI decides the next one (stats.next_set_rounds): the last of
the first sets_min sets, and any set after them, runs the rounds the widest traced p50
ratio half-width still needs to reach the target (a CI narrows as 1 / sqrt(rounds)),
while the seconds of rounds spent stay within the budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.approaches import Approach
from conformance.bench import stats as bench
from conformance.bench.blocks import blocks, pooled
from conformance.bench.clients import RPCS
from conformance.bench.rotation import Mode, Rotation, rotate

MOST_ROUNDS_FACTOR = 3  # one set runs at most this many times the base rounds
UNTRACED = ("untraced", "untraced-again")


@dataclass(frozen=True)
class Plan:
    """How an approach's sets are run: rounds per set (base), the sets at least, the
    half-width target, the seconds of rounds (warm-up ones too) the approach may spend,
    and the rotation's settings (rotate()'s parameters, the same for every set)."""

    base: int
    sets_min: int
    target: float
    budget_s: float
    block_s: float
    warmup_rounds: int
    settle_s: float
    settle_until: float | None
    settle_cap: float
    seed: int
    timeout_s: float


@dataclass
class Sets:
    """What every set did, and each mode's blocks of all of them, one entry per round in set order."""

    rotations: list[Rotation] = field(default_factory=list)
    per_set: list[dict[str, list[dict | None]]] = field(default_factory=list)
    stop: str = ""

    @property
    def per_mode(self) -> dict[str, list[dict | None]]:
        return pool_sets(self.per_set)


def pool_sets(per_set: list[dict[str, list[dict | None]]]) -> dict[str, list[dict | None]]:
    """Each mode's blocks of every set one after the other: round k of set 2 follows set 1's
    last round, and the modes stay paired round by round."""
    out: dict[str, list[dict | None]] = {}
    for found in per_set:
        for name, rounds in found.items():
            out.setdefault(name, []).extend(rounds)
    return out


def baselines(per_mode: dict[str, list[dict | None]]) -> dict[str, list[dict | None]]:
    """Each compared mode's baseline: the A/A's is one untraced client, every other mode's is
    both untraced ones together (which halves the baseline's share of the noise)."""
    both = pooled(per_mode["untraced"], per_mode["untraced-again"])
    return {name: per_mode["untraced"] if name == "untraced-again" else both for name in per_mode if name != "untraced"}


def widest_half_width(per_mode: dict[str, list[dict | None]]) -> float | None:
    """The traced p50 ratio's widest CI half-width over the RPCs (None: no pair, or an RPC missing)."""
    try:
        rpcs = bench.compare(per_mode["traced"], baselines(per_mode)["traced"], RPCS)["rpcs"]
    except ValueError:
        return None
    if set(rpcs) != set(RPCS):
        return None
    return max(figures["p50_ratio"]["half_width"] for figures in rpcs.values())


def set_ratios(per_set: list[dict[str, list[dict | None]]], name: str) -> dict[str, dict]:
    """Per RPC, each set's own p50 ratio of `name` and their spread (stats.spread); sets
    without a pair are left out, and an RPC with fewer than two sets has no spread."""
    values: dict[str, list[float]] = {rpc: [] for rpc in RPCS}
    for found in per_set:
        try:
            figures = bench.compare(found[name], baselines(found)[name], RPCS)["rpcs"]
        except ValueError:
            continue
        for rpc, f in figures.items():
            values[rpc].append(f["p50_ratio"]["value"])
    return {rpc: bench.spread(v) for rpc, v in values.items() if len(v) >= 2}


def run_sets(
    approach: Approach,
    modes: dict[str, Mode],
    plan: Plan,
    folder: Path,
    say: Callable[[str], None],
    during_setup: Callable[[], None] | None = None,
) -> Sets:
    """Sets of fresh clients (rotate()) until the plan says stop; `during_setup` runs during
    the first set's set-up. A client's failure raises RuntimeError (rotate's) or ends the sets
    with it in the last rotation (the caller reads rotation.clients)."""
    found = Sets()
    spent_s = 0.0
    most = plan.base * MOST_ROUNDS_FACTOR
    while True:
        done = [rotation.rounds for rotation in found.rotations]
        width = widest_half_width(found.per_mode) if found.per_set else None
        # The seconds of rounds count the warm-up rounds too: a new set needs its own.
        round_s = spent_s / (sum(done) + len(done) * plan.warmup_rounds) if done else 0.0
        left_s = plan.budget_s - spent_s - plan.warmup_rounds * round_s
        rounds = bench.next_set_rounds(done, width, plan.target, plan.base, plan.sets_min, left_s, round_s, most)
        if rounds == 0:
            found.stop = stop_reason(width, plan, spent_s, sum(done), round_s)
            return found
        number = len(done) + 1
        say(f"{approach.id}: set {number}: {len(modes)} fresh clients, {rounds} rounds" + (f" (half-width so far ±{width * 100:.1f} %)" if width else ""))
        rotation = rotate(
            approach, modes, rounds, plan.block_s, plan.warmup_rounds, plan.settle_s, plan.seed + number - 1, plan.timeout_s, folder, say,
            during_setup if number == 1 else None, settle_until=plan.settle_until, settle_cap=plan.settle_cap,
        )
        found.rotations.append(rotation)
        if not all(client.ok for client in rotation.clients.values()):
            found.stop = "a client failed"
            return found
        found.per_set.append({name: blocks(client.calls(RPCS), rotation.periods[name], RPCS, rotation.rounds) for name, client in rotation.clients.items()})
        spent_s += rotation.rounds_s
        if rotation.settled:
            say("  settled: " + ", ".join(f"{name} {s['s']:.1f} s{'' if s['settled'] else ' (cap)'}" for name, s in rotation.settled.items()))


def stop_reason(width: float | None, plan: Plan, spent_s: float, rounds: int, round_s: float) -> str:
    """Why the sets ended, with the figures."""
    if width is None:
        return "no complete pair of blocks"
    if width <= plan.target:
        return f"target reached: ±{width * 100:.1f} % <= ±{plan.target * 100:g} % after {rounds} rounds ({spent_s:.0f} s)"
    return (
        f"budget spent: ±{width * 100:.1f} % after {rounds} rounds ({spent_s:.0f} s of rounds, budget {plan.budget_s:g} s; "
        f"a round takes {round_s:.2f} s)"
    )
