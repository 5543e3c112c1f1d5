"""`nox -s bench`: what tracing costs in each approach, how fast a trace shows in
Jaeger, how fast the embedded stack starts, and where the traced clients' CPU goes.
A benchmark, not a test: it measures and reports, and fails only when a client
fails or an "untraced" client was traced after all.

    python -m conformance.bench [--approaches <language>/<approach>,...] [options]

The approaches must be built (the nox session builds the ones it is given); each
client starts through conformance/runner.py. Phases, each announced as it runs:

1. stack (unless --no-stack-starts): stop; cold start; W times stop + warm start.
2. per approach, the cost: a long-lived client per mode (traced, untraced, a second
   untraced one as the A/A control, and the approach's trims), in randomized blocks
   (rotation.py); paired per-block ratios with bootstrap CIs (stats.py). While those
   clients set up, a plain traced run is timed to Jaeger (visibility).
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
from conformance.bench.blocks import blocks, cpu_by_thread, pooled
from conformance.bench.clients import RPCS, Client
from conformance.bench.jaeger import check_untraced, measure_visibility
from conformance.bench.machine import machine, versions
from conformance.bench.profile import profile
from conformance.bench.rotation import UNBOUNDED, Mode, rotate, scenario_copy, service
from conformance.bench.stack import StackChanged, StackCommandFailed, check_stack, stack_command, stack_identity, stack_starts
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.paths import REPORTS_DIR, RUNS_DIR, SCENARIO_FILE
from conformance.runner import launch
from conformance.runs import load_scenario

BENCH_DIR = RUNS_DIR / "bench"
SCENARIO = load_scenario()
# (default, --quick) of the options that --quick changes.
DEFAULTS = {"rounds": (32, 8), "block": (0.3, 0.2), "warmup_rounds": (3, 2), "visibility_runs": (1, 0)}
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (under 3 min): few short blocks; no stack starts, trims or profiles; wide CIs"
    )
    parser.add_argument("--rounds", type=int, help=f"rounds of blocks per approach (default {DEFAULTS['rounds'][0]}, --quick {DEFAULTS['rounds'][1]})")
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
    if args.rounds < 2 or args.block <= 0 or args.warmup_rounds < 0 or args.visibility_runs < 0 or (args.settle or 0) < 0:
        parser.error("want --rounds >= 2, --block > 0, --warmup-rounds >= 0, --visibility-runs >= 0 and --settle >= 0")
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


def measure(chosen: Approach, args: argparse.Namespace, jaeger: Jaeger) -> tuple[dict, list[str]]:
    """The rotation of one approach, with its visibility runs during the set-up ->
    its figures (comparisons, blocks, CPU by thread, untraced checks, visibility); failures."""
    approach = chosen.id
    modes, variants = modes_of(chosen, args)
    settle_s = chosen.bench_settle_s if args.settle is None else args.settle
    say(
        f"{approach}: {len(modes)} clients ({', '.join(modes)}); {settle_s} s alone each, "
        f"then {args.warmup_rounds} + {args.rounds} rounds of {args.block} s blocks"
    )
    visibility: list[dict] = []
    result: dict = {"modes": variants}
    try:
        rotation = rotate(
            chosen, modes, args.rounds, args.block, args.warmup_rounds, settle_s, args.seed, args.client_timeout, BENCH_DIR, say,
            lambda: visibility_runs(chosen, jaeger, args.visibility_runs, args.client_timeout, visibility),
        )
    except RuntimeError as error:
        return {**result, "error": str(error)}, [f"{approach}: {error}"]
    failures = [f"{approach} visibility: {r['error']}" for r in visibility if r.get("error")]
    if visibility:
        result["visibility"] = {
            "runs": visibility,
            "root_median_s": bench.median_or_none([r["root_s"] for r in visibility]),
            "complete_median_s": bench.median_or_none([r["complete_s"] for r in visibility]),
        }
    failed = [f"{approach} {name}: {client.failure()}" for name, client in rotation.clients.items() if not client.ok]
    if failed:
        return {**result, "error": "; ".join(failed)}, failures + failed
    per_mode = {name: blocks(client.calls(RPCS), rotation.periods[name], RPCS, rotation.rounds) for name, client in rotation.clients.items()}
    result.update(
        setup_s=rotation.setup_s,
        settle_s=rotation.settle_s,
        rounds_s=rotation.rounds_s,
        rounds=rotation.rounds,
        blocks={name: sum(b is not None for b in found) for name, found in per_mode.items()},
        cpu_by_thread={name: cpu_by_thread(found) for name, found in per_mode.items()},
        block_p50_ms={
            name: {rpc: [None if b is None else round(bench.percentile(b["calls"][rpc], 50), 3) for b in found] for rpc in RPCS}
            for name, found in per_mode.items()
        },
        comparisons={},
    )
    # The A/A control compares the two untraced clients; every other mode is compared with
    # both of them together, which halves the baseline's share of the noise.
    baselines = {"untraced-again": per_mode["untraced"]}
    baseline = pooled(per_mode["untraced"], per_mode["untraced-again"])
    for name in modes:
        if name != "untraced":
            try:
                result["comparisons"][name] = bench.compare(per_mode[name], baselines.get(name, baseline), RPCS)
            except ValueError as error:
                failures.append(f"{approach} {name}: {error}")
    start_us = min(c.started_us for c in rotation.clients.values())
    end_us = max(c.ended_us or 0 for c in rotation.clients.values())
    # Checked after every approach ran (verify_untraced): by then Milvus has exported these blocks' spans.
    # A block's first 100 ms are left out: a traced call in flight when its client was paused reaches Milvus then.
    result["untraced_checks"] = {
        name: {
            "service": service(chosen, name),
            "span_us": [start_us, end_us],
            "windows": [(p.start_us + 100_000, p.end_us) for p in rotation.periods[name] if p.end_us - p.start_us > 100_000],
        }
        for name in ("untraced", "untraced-again")
    }
    traced = result["comparisons"].get("traced", {}).get("rpcs", {})
    say(
        f"{approach}: set-up {rotation.setup_s} s, {rotation.rounds} rounds in {rotation.rounds_s} s, blocks {result['blocks']}; "
        + "; ".join(
            f"{rpc} p50 ratio {f['p50_ratio']['value']:.3f} ±{f['p50_ratio']['half_width'] * 100:.1f} %" for rpc, f in traced.items()
        )
    )
    return result, failures


def verify_untraced(report: dict) -> list[str]:
    """Every untraced client sent no span and no traceparent (jaeger.check_untraced); the failures."""
    failures = []
    for approach, result in report["approaches"].items():
        for name, pending in (result.get("untraced_checks") or {}).items():
            check = check_untraced(pending["service"], SCENARIO["server_service"], *pending["span_us"], pending["windows"])
            result["untraced_checks"][name] = check
            if not check["passed"]:
                failures.append(f"{approach} {name}: not proven untraced: {check}")
    return failures


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
            "p50_ratio_ci_half_width_max": bench.HALF_WIDTH_TARGET,
            "visible_after_exit_s_max": bench.VISIBLE_TARGET_S,
            "warm_start_s_max": bench.WARM_START_TARGET_S,
        },
        "definitions": bench_render.DEFINITIONS,
        "approaches": {approach.id: {"untraced_switch": approach.untraced_switch} for approach in args.approaches},
    }
    say(
        f"{'QUICK (smoke, wide CIs): ' if args.quick else ''}approaches {', '.join(approaches)}; {args.rounds} rounds of "
        f"{args.block} s blocks, seed {args.seed}; load {report['machine']['load_start'][0]}"
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
    failures += verify_untraced(report)
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
