"""`nox -s load`: per approach, a closed-loop load at several concurrency levels (calls in
flight), traced against untraced, in the bench's interleaved blocks (bench/rotation.py): the
throughput, p50 and p99 ratios with 95 % CIs, client and Milvus CPU per call, the spans that
never reached Jaeger, and the batch settings that remove that loss (README.md here).

    python -m conformance.load [--approaches <language>/<approach>,...] [--levels 1,4,16,64] [--quick]

Writes reports/load.json, load.md and the pictures load-*.png."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import sys
import time

from conformance.approaches import Approach, ManifestError, load_all, select
from conformance.bench.blocks import blocks
from conformance.bench.clients import RPCS
from conformance.bench.machine import machine, versions
from conformance.bench.rotation import rotate, service
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.load import counts, figures, plan, render
from conformance.paths import REPORTS_DIR, RUNS_DIR
from conformance.runs import load_scenario
from conformance.stack_settings import stack_with
from stack.addresses import StackError

LOAD_DIR = RUNS_DIR / "load"
SCENARIO = load_scenario()
# (default, --quick)
DEFAULTS = {"rounds": (6, 3), "block": (0.4, 0.4), "levels": (plan.LEVELS, plan.QUICK_LEVELS)}
SETTLE_SHARE = (0.25, 0.125)  # of the language's bench_settle_s (Java 8 s), each client alone first
WARMUP_ROUNDS = 1
DRAIN_S = 0.05  # after a pause, the server still answers the calls the paused client had in flight
IDLE_S = 2.0  # the server's background CPU, read before each approach's clients start
# Ten clients set up at once made Milvus take over 15 s to build one's index (python/sdk's step bound).
START_GAP_S = 1.0
SDK_SAYS = re.compile(r"dropped|dropping|queue is full", re.IGNORECASE)  # an SDK's own word on lost spans (not the drop_* steps)
COUNTS_TIMEOUT_S = 60
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[load {time.monotonic() - _started:5.0f} s] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s load --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one; --quick: the first of each language)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (under 3 min): levels 1 and 16, few rounds, wide CIs")
    parser.add_argument("--levels", type=plan_levels, help="concurrency levels, calls in flight (default 1,4,16,64; --quick 1,16)")
    parser.add_argument("--rounds", type=int, help=f"measured rounds per approach (default {DEFAULTS['rounds'][0]}, --quick {DEFAULTS['rounds'][1]})")
    parser.add_argument("--block", type=float, help=f"seconds per block (default {DEFAULTS['block'][0]}, --quick {DEFAULTS['block'][1]})")
    parser.add_argument("--settle", type=float, help="seconds each client runs alone first (default: half its language's bench_settle_s; --quick an eighth)")
    parser.add_argument("--batch", type=plan_settings, default=plan.BATCH, help="the batch mode's settings, VAR=VALUE,... (default: "
                        + ",".join(f"{k}={v}" for k, v in plan.BATCH.items()) + ")")
    parser.add_argument("--seed", type=int, default=1, help="the block order's random seed (default 1)")
    parser.add_argument("--client-timeout", type=float, default=300, help="seconds before a client is killed (default 300)")
    args = parser.parse_args(argv)
    for name, (default, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    if args.rounds < 2 or args.block <= 0 or (args.settle or 0) < 0:
        parser.error("want --rounds >= 2, --block > 0 and --settle >= 0")
    try:
        approaches = load_all()
        if args.approaches:
            args.approaches = select(approaches, args.approaches)
        else:
            args.approaches = [a for a in approaches if a is next(b for b in approaches if b.language == a.language)] if args.quick else approaches
    except ManifestError as error:
        parser.error(str(error))
    return args


def plan_levels(text: str) -> tuple[int, ...]:
    try:
        return plan.levels(text)
    except plan.PlanError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def plan_settings(text: str) -> dict[str, str]:
    try:
        return plan.settings(text)
    except plan.PlanError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def sdk_says(log: str) -> dict:
    """What the client's own output says about dropped spans: how many lines, and the first."""
    lines = [line.strip() for line in log.splitlines() if SDK_SAYS.search(line)]
    return {"lines": len(lines), "first": lines[0][:240] if lines else None}


def measure(approach: Approach, args: argparse.Namespace) -> tuple[dict, list[str]]:
    """One approach's rotations (plan.groups) -> its figures per mode and level (spans counted later); failures."""
    planned = plan.modes(args.levels, args.batch, plan.MILVUS_LEVEL)
    settle_s = approach.bench_settle_s * SETTLE_SHARE[args.quick] if args.settle is None else args.settle
    server_cpu = counts.cpu_reader(counts.group_pids(counts.server_groups()))
    idle = counts.idle_rate(server_cpu, IDLE_S)
    found: dict[str, list] = {}
    result: dict = {"milvus_idle_cpu_ms_per_s": round(idle / 1e6, 1), "rotations": [], "modes": {}}
    for group, block_s in plan.groups(planned, args.block):
        say(f"{approach.id}: {len(group)} clients ({', '.join(group)}); {settle_s:g} s alone each, then "
            f"{WARMUP_ROUNDS} + {args.rounds} rounds of {block_s:g} s blocks")
        try:
            rotation = rotate(approach, {name: p.mode for name, p in group.items()}, args.rounds, block_s, WARMUP_ROUNDS, settle_s,
                              args.seed, args.client_timeout, LOAD_DIR, say, server_cpu=server_cpu, drain_s=DRAIN_S, start_gap_s=START_GAP_S)
        except RuntimeError as error:
            return {**result, "error": str(error)}, [f"{approach.id}: {error}"]
        failed = [f"{approach.id} {name}: {client.failure()}" for name, client in rotation.clients.items() if not client.ok]
        if failed:
            return {**result, "error": "; ".join(failed)}, failed
        result["rotations"].append({"modes": list(group), "block_s": block_s, "setup_s": rotation.setup_s, "settle_s": rotation.settle_s,
                                    "rounds": rotation.rounds, "rounds_s": rotation.rounds_s})
        for name, client in rotation.clients.items():
            calls = client.calls(RPCS)
            found[name] = figures.with_turns(blocks(calls, rotation.periods[name], RPCS, rotation.rounds), rotation.periods[name], idle, DRAIN_S)
            result["modes"][name] = {
                "kind": group[name].kind,
                "level": group[name].level,
                "service": service(approach, name),
                "calls": {rpc: len(calls.get(rpc, [])) for rpc in RPCS},
                "blocks": sum(b is not None for b in found[name]),
                "sdk_says": sdk_says(client.log_path.read_text(errors="replace")),
            }
    top = max(args.levels)
    result["levels"] = {str(level): figures.compare(found[f"traced-{level}"], found[f"untraced-{level}"]) for level in args.levels}
    result["batch"] = {
        "level": top,
        "settings": args.batch,
        "against_untraced": figures.compare(found[f"batch-{top}"], found[f"untraced-{top}"]),
        "against_traced": figures.compare(found[f"batch-{top}"], found[f"traced-{top}"]),
    }
    if (m := plan.MILVUS_LEVEL) in args.levels:
        result["milvus"] = {"level": m, "unsampled_against_untraced": figures.compare(found[f"unsampled-{m}"], found[f"untraced-{m}"])}
    say(f"{approach.id}: " + "; ".join(f"{r['rounds']} rounds of {len(r['modes'])} in {r['setup_s'] + r['settle_s'] + r['rounds_s']:.0f} s"
                                       for r in result["rotations"]) + "; "
        + "; ".join(f"{level} in flight: throughput x{render.value(f['throughput_ratio'])}" for level, f in result["levels"].items()))
    return result, []


def count_spans(report: dict) -> None:
    """Every mode's spans as Jaeger counted them, against the calls its client made."""
    services = [m["service"] for r in report["approaches"].values() for m in (r.get("modes") or {}).values()]
    if not services:
        return
    say(f"waiting for Jaeger's span counts of {len(services)} clients to settle ...")
    found = counts.settled(services, COUNTS_TIMEOUT_S, say)
    step_calls = {rpc: sum(step["rpcs"].count(rpc) for step in SCENARIO["steps"] if step["name"] == rpc.lower()) for rpc in RPCS}
    for result in report["approaches"].values():
        for mode in (result.get("modes") or {}).values():
            traced = mode["kind"] in ("traced", "batch")
            mode["spans"] = {
                rpc: figures.loss(mode["calls"][rpc] + step_calls[rpc] if traced else 0, counts.client_calls(found, mode["service"], rpc))
                for rpc in RPCS
            }
            mode["spans_total"] = counts.spans_of(found, mode["service"])


def write(report: dict, failures: list[str]) -> None:
    report["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["wall_s"] = round(time.monotonic() - _started, 1)
    report["failures"] = failures
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    report["pictures"] = render.pictures(report, REPORTS_DIR)
    (REPORTS_DIR / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS_DIR / "load.md").write_text(render.markdown(report))
    print()
    print(render.text(report))
    print()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that paused clients are killed on the way out
    args = parse_args(argv)
    LOAD_DIR.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "levels": list(args.levels), "rounds": args.rounds, "block_s": args.block, "warmup_rounds": WARMUP_ROUNDS,
            "long_level": plan.LONG_LEVEL, "long_block_s": args.block * plan.LONG_BLOCK,
            "drain_s": DRAIN_S, "seed": args.seed, "batch": args.batch, "unsampled": plan.UNSAMPLED, "milvus_level": plan.MILVUS_LEVEL,
        },
        "definitions": render.DEFINITIONS,
        "approaches": {},
    }
    say(f"{'QUICK (smoke, wide CIs): ' if args.quick else ''}approaches {', '.join(a.id for a in args.approaches)}; "
        f"levels {','.join(map(str, args.levels))}; load {report['machine']['load_start'][0]}")
    failures: list[str] = []
    say("restarting Jaeger with span counts (STACK_SPAN_COUNTS=1) ...")
    with stack_with(STACK_SPAN_COUNTS="1"):
        Jaeger().check_reachable()
        for approach in args.approaches:
            report["approaches"][approach.id], failed = measure(approach, args)
            failures += failed
        count_spans(report)
        write(report, failures)  # before the stack's settings are restored, which may fail on their own
    say(f"done in {report['wall_s']:.0f} s; every figure in {REPORTS_DIR / 'load.json'}, load.md and {', '.join(report['pictures'])}")
    if failures:
        print("load: failures:\n" + "\n".join(f"  - {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (StackError, JaegerUnreachable, ManifestError, counts.CountsUnavailable) as error:
        sys.exit(f"load: {error}")
