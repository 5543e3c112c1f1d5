"""`nox -s bench`: what tracing costs in each approach, how fast a trace shows in
Jaeger, how fast the embedded stack starts, and where the traced clients' CPU goes.
A benchmark, not a test: it measures and reports, and fails only when a client
fails or an "untraced" client was traced after all.

    python -m conformance.bench --clients .runs/bench/clients.json [options]

The nox session builds the clients and writes clients.json (how to run each one
traced and untraced). Phases, each announced as it runs:

1. stack (unless --no-stack-starts): stop; cold start; W times stop + warm start.
2. per approach, a calibration run: one plain traced run with a short hot path, timed
   to Jaeger (visibility); its hot path sizes the next phase.
3. per approach, the cost: a long-lived client per mode (traced, untraced, a second
   untraced one as the A/A control, and the trims of TRIMS), in randomized blocks
   (rotation.py); paired per-block ratios with bootstrap CIs (stats.py).
4. profiles (profile.py): one approach per language, traced and untraced, under
   the language's own profiler; the frames attributable to tracing.

Writes reports/bench.json and reports/bench.md and prints the tables (render.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

from conformance.bench import render as bench_render
from conformance.bench import stats as bench
from conformance.bench.blocks import blocks
from conformance.bench.clients import Client
from conformance.bench.jaeger import check_untraced, measure_visibility
from conformance.bench.machine import machine, versions
from conformance.bench.profile import profile
from conformance.bench.rotation import rotate, scenario_copy
from conformance.bench.stack import STACK_UP_TIMEOUT_S, StackChanged, check_stack, stack_identity, stack_starts, stackctl_command
from conformance.jaeger import Jaeger
from conformance.runs import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".runs" / "bench"
REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", ROOT / "reports"))
SCENARIO = load_scenario()
RPCS = ("Search", "Query")
CONSISTENCY = "Bounded"  # what the clients' hot path uses (see conformance/SCENARIO.md)
CALIBRATION_ITERATIONS = 150
SETTLE_SHARE = 0.6  # of a lone client's set-up time
# --quick has no calibration run: guesses on the slow side of Java's traced client.
QUICK_ITERATION_MS = 6.0
QUICK_SETUP_S = 5.0

# Settings that take tracing's work away piece by piece: each a mode of its own in the
# rotation, compared with the same untraced client. "*" applies to every approach.
TRIMS = {
    "*": {
        # Spans wait in the batch processor's queue until exit: no export during the hot path.
        "deferred-export": {
            "OTEL_BSP_SCHEDULE_DELAY": "3600000",
            "OTEL_BSP_MAX_QUEUE_SIZE": "1000000",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1000000",
        },
    },
    # The agent's gRPC instrumentation adds an event per message sent and received.
    "java/agent": {"no-message-events": {"OTEL_INSTRUMENTATION_GRPC_EMIT_MESSAGE_EVENTS": "false"}},
    # otelgrpc's stats handler does too (read by cmd/otelgrpc only for the bench).
    "go/otelgrpc": {"no-message-events": {"DEMO_OTELGRPC_MESSAGE_EVENTS": "none"}},
}

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:5.0f} s] {message}", flush=True)


def trims(approach: str) -> dict[str, dict[str, str]]:
    return {**TRIMS["*"], **TRIMS.get(approach, {})}


def extra(text: str) -> tuple[str, dict[str, str]]:
    """--variant NAME=VAR=VALUE[,VAR=VALUE...]: one more traced mode with those settings."""
    name, _, settings = text.partition("=")
    try:
        return name, dict(pair.split("=", 1) for pair in settings.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: want NAME=VAR=VALUE[,VAR=VALUE...]") from None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=Path, required=True, help="clients.json written by the nox session")
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one in clients.json)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (about 3 min): few short blocks, no trims, no profiles; wide CIs")
    parser.add_argument("--rounds", type=int, help="rounds of blocks per approach (default 30, --quick 8)")
    parser.add_argument("--block", type=float, help="seconds per block (default 0.35, --quick 0.25)")
    parser.add_argument("--seed", type=int, default=1, help="the block order's random seed (default 1)")
    parser.add_argument("--visibility-runs", type=int, help="calibration runs per approach, timed to Jaeger (default 1, --quick 0)")
    parser.add_argument("--warm-starts", type=int, default=2, help="warm stack starts after the cold one (default 2)")
    parser.add_argument("--no-stack-starts", action="store_true", help="keep the running stack: no stop/start figures")
    parser.add_argument("--no-trims", action="store_true", help="leave out the trimmed modes (bench TRIMS)")
    parser.add_argument("--no-profiles", action="store_true", help="leave out the profiles")
    parser.add_argument(
        "--variant", type=extra, action="append", default=[], help="another traced mode: NAME=VAR=VALUE[,VAR=VALUE...]; repeatable"
    )
    parser.add_argument("--client-timeout", type=float, default=300, help="seconds before a client is killed (default 300)")
    args = parser.parse_args(argv)
    defaults = {"rounds": (30, 8), "block": (0.35, 0.25), "visibility_runs": (1, 0)}
    for name, (default, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else default)
    if args.quick:
        args.no_trims = args.no_profiles = True
    if args.rounds < 2 or args.block <= 0 or args.visibility_runs < 0:
        parser.error("want --rounds >= 2, --block > 0 and --visibility-runs >= 0")
    return args


def calibrate(spec: dict, approach: str, jaeger: Jaeger, runs: int, timeout_s: float) -> tuple[list[dict], float, float]:
    """Plain traced runs with a short hot path -> (visibility figures, ms per iteration,
    seconds until the hot path)."""
    figures, iteration_ms, setup_s = [], QUICK_ITERATION_MS, QUICK_SETUP_S
    for i in range(1, runs + 1):
        started = time.monotonic()
        name = f"{approach.replace('/', '-')}-calibration"
        scenario = scenario_copy(Path(spec["traced"]["env"]["DEMO_SCENARIO"]), BENCH_DIR, name)
        client = Client.start(
            f"{name}-{i}",
            spec["traced"],
            spec["cwd"],
            BENCH_DIR,
            {"DEMO_BENCH_REPEAT": str(CALIBRATION_ITERATIONS), "DEMO_SCENARIO": str(scenario)},
        )
        client.finish(timeout_s)
        exited = time.monotonic()
        result = measure_visibility(jaeger, client, exited, SCENARIO, say)
        result["wall_s"] = round(exited - started, 2)
        latencies = client.latencies(RPCS)
        if client.ok and all(latencies.values()):
            hot_ms = sum(sum(values) for values in latencies.values())
            iteration_ms = hot_ms / CALIBRATION_ITERATIONS
            setup_s = max(exited - started - hot_ms / 1000, 1.0)
            result.update(iteration_ms=round(iteration_ms, 3), setup_s=round(setup_s, 2))
        say(
            f"{approach} calibration {i}: {result['wall_s']} s, {iteration_ms:.2f} ms per iteration, setup {setup_s:.1f} s; "
            f"trace root visible after {result['root_s']} s, complete after {result['complete_s']} s"
            + (f"; {result['error']}" if result.get("error") else "")
        )
        figures.append(result)
    return figures, iteration_ms, setup_s


def measure(spec: dict, approach: str, args: argparse.Namespace, iteration_ms: float, setup_s: float) -> tuple[dict, list[str]]:
    """The rotation of one approach -> its comparisons, block counts and untraced checks; failures."""
    modes = {"traced": spec["traced"], "untraced": spec["untraced"], "untraced-again": spec["untraced"]}
    variants = {} if args.no_trims else trims(approach)
    variants.update(dict(args.variant))
    for name, settings in variants.items():
        modes[name] = {"command": spec["traced"]["command"], "env": {**spec["traced"]["env"], **settings}}
    iterations = math.ceil(args.rounds * args.block * 1000 / iteration_ms)
    # The clients start and set up together (mostly waiting for Milvus), but not for so
    # long that one begins its hot path unmeasured; the rest of the set-up is done in turns.
    settle_s = max(setup_s * SETTLE_SHARE, 2.0)
    say(f"{approach}: {len(modes)} clients ({', '.join(modes)}), {iterations} iterations each, settle {settle_s:.0f} s")
    rotation = rotate(
        spec, modes, iterations, args.rounds, args.block, settle_s, args.seed, args.client_timeout, BENCH_DIR, say
    )
    failures = [f"{approach} {name}: {client.failure()}" for name, client in rotation.clients.items() if not client.ok]
    if failures:
        return {"error": "; ".join(failures)}, failures
    per_mode = {
        name: blocks(client.latencies(RPCS), rotation.periods[name], RPCS, rotation.rounds)
        for name, client in rotation.clients.items()
    }
    result: dict = {
        "modes": {name: settings for name, settings in variants.items()},
        "iterations": iterations,
        "settle_s": round(settle_s, 1),
        "rounds": rotation.rounds,
        "blocks": {name: sum(b is not None for b in found) for name, found in per_mode.items()},
        "comparisons": {},
        "untraced_checks": {},
    }
    for name in modes:
        if name != "untraced":
            try:
                result["comparisons"][name] = bench.compare(per_mode[name], per_mode["untraced"], RPCS)
            except ValueError as error:
                failures.append(f"{approach} {name}: {error}")
    start_us = min(c.started_us for c in rotation.clients.values())
    end_us = max(c.ended_us or 0 for c in rotation.clients.values())
    for name in ("untraced", "untraced-again"):
        # A block's first 100 ms are left out: a traced call in flight when its client was
        # paused reaches Milvus then.
        windows = [(start + 100_000, end) for start, end in rotation.windows[name][-5:] if end - start > 100_000]
        check = check_untraced(f"{spec['service_name']}-bench-{name}", SCENARIO["server_service"], start_us, end_us, windows)
        result["untraced_checks"][name] = check
        if not check["passed"]:
            failures.append(f"{approach} {name}: not proven untraced: {check}")
    traced = result["comparisons"].get("traced", {}).get("rpcs", {})
    say(
        f"{approach}: {rotation.rounds} rounds, blocks {result['blocks']}; "
        + "; ".join(
            f"{rpc} p50 ratio {f['p50_ratio']['value']:.3f} ±{f['p50_ratio']['half_width'] * 100:.1f} %" for rpc, f in traced.items()
        )
    )
    return result, failures


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that paused clients are killed on the way out
    args = parse_args(argv)
    try:
        spec = json.loads(args.clients.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"bench: cannot read {args.clients}: {error}") from None
    approaches = args.approaches.split(",") if args.approaches else list(spec)
    unknown = [name for name in approaches if name not in spec]
    if unknown:
        raise SystemExit(f"bench: no client spec for {', '.join(unknown)} in {args.clients}; known: {', '.join(spec)}")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "rounds": args.rounds,
            "block_s": args.block,
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
        "approaches": {name: {"untraced_switch": spec[name]["untraced_switch"]} for name in approaches},
    }
    say(
        f"{'QUICK (smoke, wide CIs): ' if args.quick else ''}approaches {', '.join(approaches)}; {args.rounds} rounds of "
        f"{args.block} s blocks, seed {args.seed}; load {report['machine']['load_start'][0]}"
    )
    failures: list[str] = []
    report["stack"] = {} if args.no_stack_starts else stack_starts(args.warm_starts, say)
    stackctl_command("up", STACK_UP_TIMEOUT_S)  # reuses a healthy stack
    stack = stack_identity()
    jaeger = Jaeger()
    jaeger.check_reachable()
    for approach in approaches:
        check_stack(stack)
        result = report["approaches"][approach]
        runs, iteration_ms, setup_s = calibrate(spec[approach], approach, jaeger, args.visibility_runs, args.client_timeout)
        if runs:
            result["visibility"] = {
                "runs": runs,
                "root_median_s": bench.median_or_none([r["root_s"] for r in runs]),
                "complete_median_s": bench.median_or_none([r["complete_s"] for r in runs]),
            }
            failures += [f"{approach} calibration: {r['error']}" for r in runs if r.get("error")]
        figures, failed = measure(spec[approach], approach, args, iteration_ms, setup_s)
        result.update(figures)
        failures += failed
    if not args.no_profiles:
        check_stack(stack)
        report["profiles"] = profile(spec, approaches, BENCH_DIR / "profiles", args.client_timeout, say)
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
