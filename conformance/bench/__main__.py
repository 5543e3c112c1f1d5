"""`nox -s bench`: what tracing costs in each approach, how fast a trace shows in
Jaeger, how fast the embedded stack starts, and where the traced clients' CPU goes.
A benchmark, not a test: it measures and reports, and fails only when a client
fails or an "untraced" client was traced after all.

    python -m conformance.bench [--approaches <language>/<approach>,...] [options]

The approaches must be built (the nox session builds the ones it is given); each
client starts through conformance/runner.py. Phases, each announced as it runs:

1. stack (unless --no-stack-starts): stop; cold start; W times stop + warm start.
2. per approach, the cost: sets of fresh long-lived clients, one per mode (traced,
   untraced, a second untraced one as the A/A control, and the approach's trims), each
   set in randomized blocks (rotation.py), more rounds until the CI reaches --target or
   --budget is spent (sets.py); paired per-block ratios over the pooled rounds with
   bootstrap CIs, and each set's own ratio (stats.py). While the first set's clients set
   up, a plain traced run is timed to Jaeger (visibility).
3. profiles (profile.py): one approach per language, traced and untraced, under
   the profiler its folder declares; the frames attributable to tracing.

The trims and the profilers are the language folders' (approaches.toml [approaches.<name>.bench]
and [profile], conformance/APPROACHES.md).

Writes reports/bench.json and reports/bench.md and prints the tables (render.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import sys
import time

from conformance.approaches import Approach, ManifestError, load_all, select
from conformance.bench import render as bench_render
from conformance.bench import stats as bench
from conformance.bench.blocks import cpu_by_thread
from conformance.bench.clients import RPCS, Client
from conformance.bench.jaeger import measure_visibility, verify_untraced
from conformance.bench.machine import machine, versions
from conformance.bench.profile import profile
from conformance.bench.rotation import UNBOUNDED, Mode, scenario_copy, service
from conformance.bench.sets import UNTRACED, Plan, baselines, run_sets, set_ratios
from conformance.bench.stack import StackChanged, StackCommandFailed, check_stack, stack_command, stack_identity, stack_starts
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.paths import REPORTS_DIR, RUNS_DIR, SCENARIO_FILE
from conformance.runner import launch
from conformance.runs import load_scenario

BENCH_DIR = RUNS_DIR / "bench"
SCENARIO = load_scenario()
# (default, --quick) of the options that --quick changes.
# Per approach, at least `processes` sets of `rounds` rounds (each set fresh clients), more while the
# traced p50 ratios' CI is wider than --target and the --budget of seconds of rounds lasts
# (conformance/bench/README.md, "How long it takes"). --quick: two short sets, no extension.
DEFAULTS = {
    "rounds": (10, 5), "block": (0.3, 0.3), "warmup_rounds": (2, 2), "visibility_runs": (1, 0), "processes": (3, 2), "budget": (90.0, 0.0),
}
# A Java client settles until its JIT has, at most this many times its bench_settle_s (full run, --quick).
SETTLE_CAP = {False: 1.5, True: 0.5}
CONSISTENCY = "Bounded"  # what the clients' hot path uses (see conformance/SCENARIO.md)

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:5.0f} s] {message}", flush=True)


def extra(text: str) -> tuple[str, dict[str, str]]:
    """--variant NAME=VAR=VALUE[,VAR=VALUE...]: one more traced mode with those settings."""
    name, _, settings = text.partition("=")
    try:
        return name, dict(pair.split("=", 1) for pair in settings.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: want NAME=VAR=VALUE[,VAR=VALUE...]") from None


def stats_target() -> float:
    return round(bench.HALF_WIDTH_TARGET * 100, 6)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (about 6 min): two short sets per approach, no budget; no stack starts, trims or profiles; wide CIs"
    )
    parser.add_argument("--rounds", type=int, help=f"rounds of blocks per set (default {DEFAULTS['rounds'][0]}, --quick {DEFAULTS['rounds'][1]})")
    parser.add_argument(
        "--processes", type=int, help=f"sets per approach at least, each fresh clients (default {DEFAULTS['processes'][0]}, --quick {DEFAULTS['processes'][1]})"
    )
    parser.add_argument(
        "--target", type=float, default=stats_target(), help=f"the traced p50 ratios' CI half-width to reach, %% (default {stats_target():g})"
    )
    parser.add_argument(
        "--budget", type=float,
        help=f"seconds of rounds (warm-up ones too) per approach that more rounds may fill (default {DEFAULTS['budget'][0]:g}, --quick {DEFAULTS['budget'][1]:g}: none)",
    )
    parser.add_argument("--block", type=float, help=f"seconds per block (default {DEFAULTS['block'][0]}, --quick {DEFAULTS['block'][1]})")
    parser.add_argument(
        "--warmup-rounds", type=int, help=f"unmeasured rounds first (default {DEFAULTS['warmup_rounds'][0]}, --quick {DEFAULTS['warmup_rounds'][1]})"
    )
    parser.add_argument(
        "--settle", type=float, help="seconds each client runs its hot path alone before the warm-up rounds (default: its language's bench_settle_s)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the block order's random seed (default 1)")
    parser.add_argument("--visibility-runs", type=int, help="plain traced runs per approach timed to Jaeger, during the set-up (default 1, --quick 0)")
    parser.add_argument("--warm-starts", type=int, default=1, help="warm stack starts after the cold one (default 1)")
    parser.add_argument("--no-stack-starts", action="store_true", help="keep the running stack: no stop/start figures")
    parser.add_argument("--no-trims", action="store_true", help="leave out the trimmed modes (the manifests' [approaches.<name>.bench])")
    parser.add_argument("--no-profiles", action="store_true", help="leave out the profiles")
    parser.add_argument(
        "--variant", type=extra, action="append", default=[], help="another traced mode: NAME=VAR=VALUE[,VAR=VALUE...]; repeatable"
    )
    parser.add_argument("--client-timeout", type=float, default=300, help="seconds before a client is killed (default 300)")
    args = parser.parse_args(argv)
    for name, (default, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    if args.quick:
        args.no_trims = args.no_profiles = args.no_stack_starts = True
    if (
        args.rounds < 2 or args.block <= 0 or args.warmup_rounds < 0 or args.visibility_runs < 0 or (args.settle or 0) < 0
        or args.processes < 1 or not 0 < args.target < 100 or args.budget < 0
    ):
        parser.error(
            "want --rounds >= 2, --block > 0, --warmup-rounds >= 0, --visibility-runs >= 0, --settle >= 0, "
            "--processes >= 1, 0 < --target < 100 (%) and --budget >= 0"
        )
    args.target /= 100
    try:
        approaches = load_all()
        args.approaches = select(approaches, args.approaches) if args.approaches else approaches
    except ManifestError as error:
        parser.error(str(error))
    return args


def visibility_runs(chosen: Approach, jaeger: Jaeger, runs: int, timeout_s: float, out: list[dict]) -> None:
    """Plain traced runs (no hot path), each timed from its exit to Jaeger; appended to `out`."""
    approach, name = chosen.id, f"{chosen.slug}-visibility"
    scenario = scenario_copy(SCENARIO_FILE, BENCH_DIR, name)
    for i in range(1, runs + 1):
        started = time.monotonic()
        traced = launch(chosen, BENCH_DIR / f"{name}-{i}.json", env={"DEMO_SCENARIO": str(scenario)})
        client = Client.start(f"{name}-{i}", traced, BENCH_DIR)
        client.finish(timeout_s)
        exited = time.monotonic()
        result = measure_visibility(jaeger, client, exited, SCENARIO, say)
        result["wall_s"] = round(exited - started, 2)
        say(
            f"{approach} visibility run {i}: {result['wall_s']} s; trace root visible after {result['root_s']} s, "
            f"complete after {result['complete_s']} s" + (f"; {result['error']}" if result.get("error") else "")
        )
        out.append(result)


def modes_of(approach: Approach, args: argparse.Namespace) -> tuple[dict[str, Mode], dict[str, dict[str, str]]]:
    """The rotation's modes and the settings of its trims and variants."""
    untraced = Mode(untraced=True, env=UNBOUNDED)
    modes = {"traced": Mode(env=UNBOUNDED), "untraced": untraced, "untraced-again": untraced}
    variants = {} if args.no_trims else dict(approach.trims)
    variants.update(dict(args.variant))
    for name, settings in variants.items():
        modes[name] = Mode(env={**UNBOUNDED, **settings})
    return modes, variants


def plan_of(chosen: Approach, args: argparse.Namespace) -> Plan:
    settle_s = chosen.bench_settle_s if args.settle is None else args.settle
    return Plan(
        base=args.rounds, sets_min=args.processes, target=args.target, budget_s=args.budget, block_s=args.block,
        warmup_rounds=args.warmup_rounds, settle_s=settle_s, settle_until=bench.JIT_SETTLED_SHARE,
        settle_cap=SETTLE_CAP[args.quick], seed=args.seed, timeout_s=args.client_timeout,
    )


def measure(chosen: Approach, args: argparse.Namespace, jaeger: Jaeger) -> tuple[dict, list[str]]:
    """The sets of one approach (sets.py), with its visibility runs during the first set-up ->
    its figures (comparisons, blocks, CPU by thread, untraced checks, visibility); failures."""
    approach = chosen.id
    modes, variants = modes_of(chosen, args)
    plan = plan_of(chosen, args)
    say(
        f"{approach}: {len(modes)} clients ({', '.join(modes)}) per set, at least {plan.sets_min} sets; "
        + (f"JIT settling up to {plan.settle_cap * plan.settle_s:g} s each, " if plan.settle_s else "")
        + f"{args.warmup_rounds} + {args.rounds} rounds of {args.block} s blocks per set, more while the CI is wider than "
        f"±{plan.target * 100:g} % and the {plan.budget_s:g} s budget of rounds lasts"
    )
    visibility: list[dict] = []
    result: dict = {"modes": variants}
    try:
        found = run_sets(chosen, modes, plan, BENCH_DIR, say, lambda: visibility_runs(chosen, jaeger, args.visibility_runs, args.client_timeout, visibility))
    except RuntimeError as error:
        return {**result, "error": str(error)}, [f"{approach}: {error}"]
    failures = [f"{approach} visibility: {r['error']}" for r in visibility if r.get("error")]
    if visibility:
        result["visibility"] = {
            "runs": visibility,
            "root_median_s": bench.median_or_none([r["root_s"] for r in visibility]),
            "complete_median_s": bench.median_or_none([r["complete_s"] for r in visibility]),
        }
    last = found.rotations[-1]
    failed = [f"{approach} {name}: {client.failure()}" for name, client in last.clients.items() if not client.ok]
    if failed:
        return {**result, "error": "; ".join(failed)}, failures + failed
    per_mode = found.per_mode
    result.update(
        sets=[
            {
                "rounds": r.rounds, "setup_s": r.setup_s, "settle_s": r.settle_s, "rounds_s": r.rounds_s, "settled": r.settled,
                "blocks": {name: sum(b is not None for b in by_mode[name]) for name in modes},
            }
            for r, by_mode in zip(found.rotations, found.per_set)
        ],
        rounds=sum(r.rounds for r in found.rotations),
        rounds_s=round(sum(r.rounds_s for r in found.rotations), 1),
        precision={"target": plan.target, "budget_s": plan.budget_s, "stop": found.stop},
        blocks={name: sum(b is not None for b in got) for name, got in per_mode.items()},
        cpu_by_thread={name: cpu_by_thread(got) for name, got in per_mode.items()},
        block_p50_ms={
            name: {rpc: [None if b is None else round(bench.percentile(b["calls"][rpc], 50), 3) for b in got] for rpc in RPCS}
            for name, got in per_mode.items()
        },
        comparisons={},
    )
    # The A/A control compares the two untraced clients; every other mode is compared with
    # both of them together (sets.baselines); each figure pools the rounds of every set.
    for name, baseline in baselines(per_mode).items():
        try:
            result["comparisons"][name] = bench.compare(per_mode[name], baseline, RPCS)
        except ValueError as error:
            failures.append(f"{approach} {name}: {error}")
            continue
        for rpc, spread in set_ratios(found.per_set, name).items():
            if rpc in result["comparisons"][name]["rpcs"]:
                result["comparisons"][name]["rpcs"][rpc]["p50_ratio_sets"] = spread
    clients = [c for r in found.rotations for c in r.clients.values()]
    # Checked after every approach ran (jaeger.verify_untraced): by then Milvus has exported these blocks' spans.
    # A block's first 100 ms are left out: a traced call in flight when its client was paused reaches Milvus then.
    result["untraced_checks"] = {
        name: {
            "service": service(chosen, name),
            "span_us": [min(c.started_us for c in clients), max(c.ended_us or 0 for c in clients)],
            "windows": [(p.start_us + 100_000, p.end_us) for r in found.rotations for p in r.periods[name] if p.end_us - p.start_us > 100_000],
        }
        for name in UNTRACED
    }
    traced = result["comparisons"].get("traced", {}).get("rpcs", {})
    say(
        f"{approach}: {len(found.rotations)} sets, {result['rounds']} rounds in {result['rounds_s']} s, blocks {result['blocks']}; "
        + "; ".join(
            f"{rpc} p50 ratio {f['p50_ratio']['value']:.3f} ±{f['p50_ratio']['half_width'] * 100:.1f} %"
            + (f" (sets range {f['p50_ratio_sets']['range_pct']:.1f} %)" if f.get("p50_ratio_sets") else "")
            for rpc, f in traced.items()
        )
        + f"; {found.stop}"
    )
    return result, failures


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that paused clients are killed on the way out
    args = parse_args(argv)
    approaches = [approach.id for approach in args.approaches]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "rounds": args.rounds,
            "processes": args.processes,
            "budget_s": args.budget,
            "settle_cap": SETTLE_CAP[args.quick],
            "jit_settled_share": bench.JIT_SETTLED_SHARE,
            "block_s": args.block,
            "warmup_rounds": args.warmup_rounds,
            "seed": args.seed,
            "visibility_runs": args.visibility_runs,
            "warm_starts": 0 if args.no_stack_starts else args.warm_starts,
            "approaches": approaches,
            "consistency": CONSISTENCY,
            "hot_path": "after the query step: search (vector of id 0, top 5) then query (id in [10, 11, 12]), N times",
            "bootstrap": {"resamples": bench.BOOTSTRAP_RESAMPLES, "confidence": bench.CONFIDENCE},
        },
        "targets": {
            "p50_ratio_max": bench.RATIO_TARGET,
            "p50_ratio_ci_half_width_max": args.target,
            "visible_after_exit_s_max": bench.VISIBLE_TARGET_S,
            "warm_start_s_max": bench.WARM_START_TARGET_S,
        },
        "definitions": bench_render.DEFINITIONS,
        "approaches": {approach.id: {"untraced_switch": approach.untraced_switch} for approach in args.approaches},
    }
    say(
        f"{'QUICK (smoke, wide CIs): ' if args.quick else ''}approaches {', '.join(approaches)}; {args.processes}+ sets of "
        f"{args.rounds}+ rounds of {args.block} s blocks (target ±{args.target * 100:g} %, budget {args.budget:g} s of rounds), "
        f"seed {args.seed}; load {report['machine']['load_start'][0]}"
    )
    failures: list[str] = []
    report["stack"] = {} if args.no_stack_starts else stack_starts(args.warm_starts, say)
    stack_command("up")  # reuses a healthy stack
    stack = stack_identity()
    jaeger = Jaeger()
    jaeger.check_reachable()
    for approach in args.approaches:
        check_stack(stack)
        figures, failed = measure(approach, args, jaeger)
        report["approaches"][approach.id].update(figures)
        failures += failed
    if not args.no_profiles:
        check_stack(stack)
        report["profiles"] = profile(args.approaches, BENCH_DIR / "profiles", args.client_timeout, say)
    say("checking that the untraced clients sent nothing ...")
    failures += verify_untraced(report, SCENARIO["server_service"])
    report["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["wall_s"] = round(time.monotonic() - _started, 1)
    report["missed"] = bench.misses(report)
    report["failures"] = failures
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS_DIR / "bench.md").write_text(bench_render.markdown(report))
    print()
    print(bench_render.text(report))
    print()
    say(f"done in {report['wall_s']:.0f} s; every figure in {REPORTS_DIR / 'bench.json'} and bench.md")
    if failures:
        print("bench: failures:\n" + "\n".join(f"  - {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except StackChanged as error:
        sys.exit(f"bench: stopped: {error}")
    except (StackCommandFailed, JaegerUnreachable, ManifestError) as error:
        sys.exit(f"bench: {error}")
