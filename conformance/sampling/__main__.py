"""`nox -s sampling`: per approach, the client under samplers that sample nothing, under a
ratio, and untraced; what Milvus recorded for each (Jaeger) and logged (its log); then tail
sampling in a second Jaeger pipeline, at a decision_wait below and above what Milvus's
export delay needs. Writes reports/sampling.json and .md; exit 1 when Milvus did not follow.

    python -m conformance.sampling [--approaches <language>/<approach>,...] [--ratio 0.5]
        [--ratio-runs 3] [--unsampled always_off,parentbased_traceidratio=0] [--parallel 2]

The approaches must be built (the nox session builds the ones it is given)."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conformance.approaches import ManifestError, load_all, select
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.paths import REPORTS_DIR, RUNS_DIR
from conformance.runs import load_scenario
from conformance.sampling import cases, report, tail
from conformance.sampling.settings import SettingError, ratio, sampler
from conformance.sampling.watch import ExportWatch, summary
from conformance.stack_settings import stack_with
from stack.addresses import StackError, milvus_log_level, milvus_mode
from stack.backends.embedded import milvus_env

RUNS = RUNS_DIR / "sampling"
SHORT_WAIT_S = 1.0  # the processor's tick: its shortest decision_wait


def say(message: str) -> None:
    print(f"[sampling] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s sampling --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one)")
    parser.add_argument("--unsampled", default="always_off,parentbased_traceidratio=0", help="samplers that sample nothing (OTEL_TRACES_SAMPLER[=ARG])")
    parser.add_argument("--ratio", default="0.5", help="parentbased_traceidratio's ratio for the ratio runs, in [0, 1]")
    parser.add_argument("--ratio-runs", type=int, default=3, help="runs per approach under the ratio (default 3: 24 for eight)")
    parser.add_argument("--parallel", type=int, default=2, help="approaches whose traced runs go at once (default 2)")
    parser.add_argument("--tail-approach", default="go/otelgrpc", help="the approach the tail-sampling trials run")
    args = parser.parse_args(argv)
    try:
        args.unsampled = [sampler(text) for text in args.unsampled.split(",") if text.strip()]
        args.ratio = ratio(args.ratio)
        approaches = load_all()
        args.approaches = select(approaches, args.approaches) if args.approaches else approaches
        args.tail_approach = select(approaches, args.tail_approach)[0]
    except (SettingError, ManifestError) as error:
        parser.error(str(error))
    if args.ratio_runs < 1 or args.parallel < 1:
        parser.error("--ratio-runs and --parallel: at least 1")
    if milvus_mode() == "cluster":  # its log level and restarts are the standalone's (backends/embedded.py)
        parser.error("runs against the standalone Milvus; unset STACK_MILVUS_MODE=cluster")
    return args


def traced_runs(approach, args) -> list[dict]:
    """The approach's runs that send a traceparent. Those of two approaches may overlap: none
    of them makes Milvus start a root trace unless Milvus ignores the parent (then both show it)."""
    record = RUNS / f"{approach.slug}.json"
    runs = [cases.sampled_run(approach, record, "unsampled", s) for s in args.unsampled]
    ratio_sampler = sampler(f"parentbased_traceidratio={args.ratio:g}")
    runs += [cases.sampled_run(approach, record, "ratio", ratio_sampler) for _ in range(args.ratio_runs)]
    say(f"{approach.id}: flags " + " ".join(f"{r['sampler']}={r['flags']}" for r in runs))
    return runs


def head_runs(args) -> dict[str, list[dict]]:
    """Every approach's traced runs, then its untraced run, alone: Milvus's roots in its
    window are that client's."""
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        runs = dict(zip((a.id for a in args.approaches), pool.map(lambda a: traced_runs(a, args), args.approaches)))
    for approach in args.approaches:
        runs[approach.id].append(cases.client_run(approach, RUNS / f"{approach.slug}.json", "no_parent", {}, untraced=True))
    return runs


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    scenario = load_scenario()
    jaeger = Jaeger()
    out: dict = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"unsampled": [str(s) for s in args.unsampled], "ratio": args.ratio, "ratio_runs": args.ratio_runs},
        "approaches": {},
        "tail": {"approach": args.tail_approach.id},
    }
    # Milvus 2.3.5 logs its Search, Query and Insert requests only at debug.
    with stack_with(STACK_MILVUS_LOG_LEVEL="debug"):
        jaeger.check_reachable()
        out["milvus"] = {"sample_fraction": milvus_env()["TRACE_SAMPLEFRACTION"], "log_level": milvus_log_level()}
        services = [*scenario["server_services"], *(a.service_name(scenario) for a in args.approaches)]
        with ExportWatch(jaeger.base_url, services) as watch:
            out["approaches"] = {approach: {"runs": runs} for approach, runs in head_runs(args).items()}
            every = [r for a in out["approaches"].values() for r in a["runs"]]
            for r in every:
                cases.arrival_times(r, jaeger, scenario, watch.first_seen)
        out["export_delay"] = summary([d for r in every for d in r.get("export_delays_s", [])])
        # Nothing for an unsampled call may arrive later than Milvus's slowest export.
        last_end = max(r["window_us"][1] for r in every) / 1e6
        time.sleep(max(0.0, last_end + max(5.0, (out["export_delay"] or {}).get("max_s", 0) + 2) - time.time()))
        for r in every:
            cases.milvus_recorded(r, jaeger, scenario)
        out["logs"] = cases.log_lines(every)
        for result in out["approaches"].values():
            result["summary"] = report.summarize(result["runs"])
        say(f"head sampling done in {time.monotonic() - started:.0f} s; tail sampling with {args.tail_approach.id}")
        tail_trials(out, args, jaeger, scenario, every)
    out["wall_s"] = round(time.monotonic() - started, 1)
    out["problems"] = report.problems(out)
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "sampling.json").write_text(json.dumps(out, indent=2) + "\n")
    (REPORTS_DIR / "sampling.md").write_text(report.render_markdown(out))
    print(report.render_text(out), flush=True)
    say(f"done in {out['wall_s']:.0f} s; written to {REPORTS_DIR / 'sampling.json'} and {REPORTS_DIR / 'sampling.md'}")
    for problem in out["problems"]:
        say(f"PROBLEM: {problem}")
    return 1 if out["problems"] else 0


def tail_trials(out: dict, args, jaeger, scenario, every: list[dict]) -> None:
    """Below: the processor's shortest wait. Above: past the latest arrival of a trace's
    first error span (what the error policy must see) in the head runs and the short
    trial, rounded up, plus a tick and two seconds of margin (a slower run)."""
    arrivals = [r["arrivals"] for r in every if r.get("arrivals")]
    out["arrival"] = {
        "first_error_max_s": max((a["first_error_after_s"] for a in arrivals if a.get("first_error_after_s") is not None), default=None),
        "last_max_s": max((a["last_after_s"] for a in arrivals if a.get("last_after_s") is not None), default=None),
    }
    record = RUNS / f"tail-{args.tail_approach.slug}.json"
    short = out["tail"]["short"] = tail.trial(args.tail_approach, SHORT_WAIT_S, record, jaeger, scenario)
    say(f"tail sampling at decision_wait={SHORT_WAIT_S:g} s: main pipeline {short['main']}; tail pipeline {short['tail']}")
    errors = [e for e in (out["arrival"]["first_error_max_s"], short["arrivals"].get("first_error_after_s")) if e is not None]
    long_s = float(math.ceil(max(errors, default=10.0)) + 3)
    out["tail"]["implied_decision_wait_s"] = long_s
    out["tail"]["note"] = (
        "The processor forwards spans that arrive after it decided to keep a trace (while it still holds the trace, "
        "num_traces), so Milvus's late spans reach a kept trace; what a short decision_wait loses is the whole trace, "
        "decided before its error span arrived. The wait must cover the error span's arrival, not only Milvus's export delay."
    )
    long = out["tail"]["long"] = tail.trial(args.tail_approach, long_s, record, jaeger, scenario)
    say(f"tail sampling at decision_wait={long_s:g} s: main pipeline {long['main']}; tail pipeline {long['tail']}")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (StackError, JaegerUnreachable) as error:
        print(f"sampling: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("sampling: interrupted", file=sys.stderr)
        sys.exit(130)
