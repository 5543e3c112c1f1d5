"""`nox -s bench`: what tracing costs in each language, how fast a trace shows in
Jaeger, and how fast the embedded stack starts. A benchmark, not a test: it
measures and reports, and fails only when a run fails or an "untraced" run was
traced after all.

    python conformance/run_bench.py --clients .runs/bench/clients.json [options]

The nox session builds the clients and writes clients.json (how to run each one
traced and untraced). Phases, each step bounded by a timeout and announced as it runs:

1. stack: stop; cold start (fresh Milvus data folder); then W times stop + warm start.
2. visibility: K plain scenario runs per language (they also warm everything up);
   for each, the time from the client's exit to Jaeger's API returning the root
   span, then to every contract RPC having its Milvus server span.
3. cost: P pairs per language, A = traced then B = untraced, each running the hot
   path N times (DEMO_BENCH_REPEAT=N); the first --warmup calls of each kind are left
   out of the statistics. Right after each B run: no span of the client's service in
   its time window, and Milvus's Search spans there have no parent (no traceparent).
   A third run per pair, untraced again, gives the noise floor (A/A ratio); --variant
   adds runs with more settings, to find where the cost is.

Writes reports/bench.json and prints the table of bench.py's render().
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from conformance import bench
from conformance.approaches import load_all
from conformance.jaeger import JAEGER_API_URL, Jaeger, complete
from conformance.runs import load_scenario
from conformance.spans import SERVER, traces_from_jaeger
from stack import stackctl

ROOT = Path(__file__).resolve().parent.parent

BENCH_DIR = ROOT / ".runs" / "bench"
REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", ROOT / "reports"))
SCENARIO = load_scenario()
RPCS = ("Search", "Query")
CONSISTENCY = "Bounded"  # what the clients' hot path uses (see conformance/SCENARIO.md)
STACK_DOWN_TIMEOUT_S = 180
STACK_UP_TIMEOUT_S = stackctl.JAEGER_BUILD_TIMEOUT_S + stackctl.INSTALL_TIMEOUT_S + stackctl.MILVUS_START_TIMEOUT_S + 60
ROOT_VISIBLE_TIMEOUT_S = 30
COMPLETE_TIMEOUT_S = 120
UNTRACED_CHECK_TIMEOUT_S = 90
SERVER_SEARCH_OPERATION = "milvus.proto.milvus.MilvusService/Search"

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:5.0f} s] {message}", flush=True)


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


# --- client runs ----------------------------------------------------------------


@dataclass
class Run:
    language: str
    mode: str  # "traced" | "untraced"
    tag: str
    exit_status: int | None
    wall_s: float
    start_us: int
    end_us: int
    exited_at: float  # time.monotonic() when the process was reaped
    load_before: float
    record: dict | None
    log: Path
    timed_out: bool = False
    latencies: dict = field(default_factory=dict)
    cpu_ms: float | None = None  # the client process's CPU time during the hot path

    def cpu_us_per_call(self) -> float | None:
        calls = sum(len(v) for v in self.latencies.values())
        return round(self.cpu_ms * 1000 / calls, 1) if self.cpu_ms is not None and calls else None

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and self.record is not None and self.record.get("exit_status") == 0

    def failure(self) -> str:
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s (log: {self.log})"
        if self.record is None:
            return f"exit status {self.exit_status}, no run record (log: {self.log})"
        return f"exit status {self.exit_status}: {self.record.get('error')} (log: {self.log})"

    def as_json(self) -> dict:
        return {
            "mode": self.mode,
            "tag": self.tag,
            "exit_status": self.exit_status,
            "error": None if self.ok else self.failure(),
            "wall_s": self.wall_s,
            "load_1m_before": self.load_before,
            "start_us": self.start_us,
            "end_us": self.end_us,
            "trace_id": (self.record or {}).get("trace_id"),
            "traceparent": (self.record or {}).get("traceparent"),
            "latency_ms": {rpc: bench.summary(values) for rpc, values in self.latencies.items() if values},
            "hot_path_cpu_ms": self.cpu_ms,
            "cpu_us_per_call": self.cpu_us_per_call(),
        }


class StackChanged(Exception):
    pass


def stack_identity() -> dict:
    """The process groups of the running stack: they change when someone restarts it."""
    state = stackctl.load_state()
    return {name: state.get(name, {}).get("pgid") for name in ("jaeger", "milvus")}


def check_stack(expected: dict) -> None:
    """Figures from before and after a restart do not mix: stop when the stack changed under us."""
    now = stack_identity()
    if now != expected or not all(component.healthy() for component in stackctl.COMPONENTS):
        raise StackChanged(
            f"the stack was stopped or restarted during the bench (process groups {expected} -> {now}); "
            "is another session using it? Rerun when it is alone"
        )


def run_client(spec: dict, language: str, mode: str, tag: str, repeat: int, timeout_s: float) -> Run:
    """One client run, its output in a log file; killed (its process group) after timeout_s."""
    client = spec[language]
    record_path = BENCH_DIR / f"{language.replace('/', '-')}-{tag}.json"
    log_path = BENCH_DIR / "logs" / f"{language.replace('/', '-')}-{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("OTEL_SDK_DISABLED", "DEMO_BENCH_REPEAT")}
    env.update(client[mode]["env"])
    env.update(DEMO_RUN_RECORD=str(record_path), DEMO_BENCH_REPEAT=str(repeat))
    load_before = load_1m()
    timed_out = threading.Event()
    with log_path.open("w") as log:
        start_us = time.time_ns() // 1000
        started = time.monotonic()
        proc = subprocess.Popen(
            client[mode]["command"],
            cwd=client["cwd"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group of the client we started, nothing else
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            code = proc.wait()  # no timeout here: a blocking wait sees the exit at once
        except BaseException:
            kill()
            proc.wait()
            raise
        finally:
            timer.cancel()
        exited = time.monotonic()
        end_us = time.time_ns() // 1000
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        record = None
    run = Run(
        language,
        mode,
        tag,
        code,
        round(exited - started, 3),
        start_us,
        end_us,
        exited,
        load_before,
        record,
        log_path,
        timed_out=timed_out.is_set(),
    )
    if record and isinstance(record.get("bench"), dict):
        run.latencies = {rpc: [float(v) for v in record["bench"].get(rpc, [])] for rpc in RPCS}
        if isinstance(record.get("bench_cpu_ms"), (int, float)):
            run.cpu_ms = float(record["bench_cpu_ms"])
    return run


def describe(run: Run) -> str:
    if not run.ok:
        return f"FAILED, {run.failure()}"
    figures = ", ".join(f"{rpc} p50 {bench.percentile(v, 50):.2f} ms" for rpc, v in run.latencies.items() if v)
    if run.cpu_us_per_call() is not None:
        figures += f", client CPU {run.cpu_us_per_call():.0f} us/call"
    return f"{run.wall_s:.1f} s" + (f"; {figures}" if figures else "")


# --- Jaeger ----------------------------------------------------------------------


def raw_traces(**params) -> list:
    response = requests.get(f"{JAEGER_API_URL}/api/traces", params=params, timeout=30)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return traces_from_jaeger(response.json())


def measure_visibility(jaeger: Jaeger, run: Run) -> dict:
    """Seconds from the client's exit until Jaeger returns (a) the root span, (b) the
    complete trace: every contract RPC client span with its Milvus SERVER child."""
    trace_id = (run.record or {}).get("trace_id")
    result = {"tag": run.tag, "trace_id": trace_id, "root_s": None, "complete_s": None, "polls": 0, "root_at_first_poll": None}
    if not run.ok or not trace_id:
        result["error"] = run.failure() if not run.ok else "no trace id in the run record"
        return result
    deadline = run.exited_at + ROOT_VISIBLE_TIMEOUT_S
    while time.monotonic() < deadline:
        trace = jaeger.trace(trace_id)
        result["polls"] += 1
        if trace is not None and any(span.name == SCENARIO["root_span"] for span in trace.roots):
            result["root_s"] = round(time.monotonic() - run.exited_at, 3)
            result["root_at_first_poll"] = result["polls"] == 1
            break
        time.sleep(0.02)
    else:
        result["error"] = f"root span not returned within {ROOT_VISIBLE_TIMEOUT_S} s"
        return result
    deadline = run.exited_at + COMPLETE_TIMEOUT_S
    next_note = time.monotonic() + 10
    while time.monotonic() < deadline:
        if complete(trace, SCENARIO):
            result["complete_s"] = round(time.monotonic() - run.exited_at, 3)
            return result
        if time.monotonic() >= next_note:
            say(f"  ... waiting for Milvus's spans of {run.language} trace {trace_id}: {time.monotonic() - run.exited_at:.0f} s")
            next_note += 10
        time.sleep(0.2)
        trace = jaeger.trace(trace_id)
    result["error"] = f"Milvus's server spans incomplete after {COMPLETE_TIMEOUT_S} s"
    return result


def client_spans_in_window(service: str, run: Run) -> int:
    """Spans of the client's own service that started during the run (0 when untraced)."""
    traces = raw_traces(service=service, start=run.start_us, end=run.end_us, limit=100)
    return sum(
        1 for trace in traces for span in trace.spans if span.service == service and run.start_us <= span.start_us <= run.end_us
    )


def server_search_spans(run: Run) -> tuple[int, int]:
    """(Milvus Search SERVER spans seen during the run, how many of them have a parent)."""
    traces = raw_traces(
        service=SCENARIO["server_service"], operation=SERVER_SEARCH_OPERATION, start=run.start_us, end=run.end_us, limit=50
    )
    spans = [
        span
        for trace in traces
        for span in trace.spans
        if span.kind == SERVER and span.name == SERVER_SEARCH_OPERATION and run.start_us <= span.start_us <= run.end_us
    ]
    return len(spans), sum(1 for span in spans if span.parent_id is not None)


def check_untraced(service: str, run: Run) -> dict:
    """An untraced run is really untraced: Milvus's Search spans of its time window have
    no parent (no traceparent arrived), and its client service sent no span at all.

    Done right after the run: Jaeger keeps 20,000 traces, and an untraced run makes
    ~2 per hot-path iteration (every Milvus call is a trace of its own)."""
    deadline = time.monotonic() + UNTRACED_CHECK_TIMEOUT_S
    seen, linked = server_search_spans(run)
    while seen == 0 and time.monotonic() < deadline:  # Milvus exports in batches, seconds late
        time.sleep(0.5)
        seen, linked = server_search_spans(run)
    client_spans = client_spans_in_window(service, run)  # after Milvus's: the client's would be there by now
    return {
        "tag": run.tag,
        "client_spans": client_spans,
        "server_search_spans": seen,
        "server_search_spans_with_parent": linked,
        "waited_s": round(time.monotonic() - run.exited_at, 1),
        "passed": client_spans == 0 and seen > 0 and linked == 0,
    }


# --- the stack -------------------------------------------------------------------


def stackctl_command(command: str, timeout_s: float) -> float:
    """Run `stackctl.py command` with its output shown; its wall time in s."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "stack" / "stackctl.py"), command], check=False, timeout=timeout_s)
    if result.returncode != 0:
        raise SystemExit(f"bench: `stack/stackctl.py {command}` failed with exit code {result.returncode}")
    return round(time.monotonic() - started, 2)


def timed_start(cold: bool) -> dict:
    stackctl_command("down", STACK_DOWN_TIMEOUT_S)
    if cold:
        say(f"removing {stackctl.MILVUS_DATA} for a cold start")
        shutil.rmtree(stackctl.MILVUS_DATA, ignore_errors=True)
    load = load_1m()
    total = stackctl_command("up", STACK_UP_TIMEOUT_S)
    state = stackctl.load_state()
    start = {
        "jaeger_s": state.get("jaeger", {}).get("ready_after_s"),
        "milvus_s": state.get("milvus", {}).get("ready_after_s"),
        "total_s": total,
        "load_1m_before": load,
    }
    if cold:
        # The `milvus` package unpacks its binaries into the data folder first: the newest file there marks the end.
        unpacked = (
            [p.stat().st_mtime for p in (stackctl.MILVUS_DATA / "bin").iterdir()]
            if (stackctl.MILVUS_DATA / "bin").exists()
            else []
        )
        milvus_started = state.get("milvus", {}).get("started_at")
        if unpacked and milvus_started:
            start["milvus_unpack_s"] = round(max(unpacked) - milvus_started, 2)
    say(f"stack {'cold' if cold else 'warm'} start: jaeger {start['jaeger_s']} s, milvus {start['milvus_s']} s, `up` {total} s")
    return start


def stack_starts(warm: int) -> dict:
    if stackctl.backend() != "embedded":
        say("STACK_BACKEND is not embedded: no stack start figures")
        return {}
    say(f"stack: 1 cold start (fresh Milvus data folder) and {warm} warm starts; each one stops the stack first")
    cold = timed_start(cold=True)
    warms = [timed_start(cold=False) for _ in range(warm)]
    result = {"cold": cold, "warm": warms}
    if warms:
        result["warm_median"] = {
            key: bench.median_or_none([w.get(key) for w in warms]) for key in ("jaeger_s", "milvus_s", "total_s")
        }
    return result


# --- facts about the machine and the versions --------------------------------------


def machine() -> dict:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory_gb = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    return {
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }


def _output(*command: str) -> str:
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
        return (result.stdout + result.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def _go_mod(path: Path, module: str) -> str:
    found = re.search(rf"^\s*{re.escape(module)} (v\S+)", path.read_text(), re.MULTILINE) if path.exists() else None
    return found.group(1) if found else "?"


def _npm(package: str) -> str:
    try:
        return json.loads((ROOT / "nodejs" / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def _pypi(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _pom(property_name: str) -> str:
    found = re.search(rf"<{property_name}>([^<]+)<", (ROOT / "java" / "pom.xml").read_text())
    return found.group(1) if found else "?"


def versions() -> dict:
    milvus = sorted(p.name for p in stackctl.MILVUS_VENV.glob("lib/python*/site-packages/milvus-*.dist-info"))
    go_mod = ROOT / "go" / "go.mod"
    return {
        "milvus": milvus[0].removeprefix("milvus-").removesuffix(".dist-info") if milvus else "?",
        "jaeger": _go_mod(ROOT / "stack" / "jaeger" / "go.mod", "github.com/jaegertracing/jaeger"),
        "python": {
            "runtime": platform.python_version(),
            **{
                p: _pypi(p)
                for p in (
                    "pymilvus",
                    "grpcio",
                    "opentelemetry-sdk",
                    "opentelemetry-instrumentation-grpc",
                    "opentelemetry-exporter-otlp-proto-grpc",
                )
            },
        },
        "java": {
            "runtime": _output("java", "-version"),
            "opentelemetry-javaagent": _pom("otel-instrumentation.version"),
            "milvus-sdk-java": _pom("milvus-sdk.version"),
        },
        "go": {
            "runtime": _output("go", "version"),
            **{
                m.rsplit("/", 1)[-1] if "otel" in m else m: _go_mod(go_mod, m)
                for m in (
                    "github.com/milvus-io/milvus/client/v2",
                    "go.opentelemetry.io/otel/sdk",
                    "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
                    "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc",
                )
            },
        },
        "node": {
            "runtime": _output("node", "--version"),
            **{
                p: _npm(p)
                for p in (
                    "@zilliz/milvus2-sdk-node",
                    "@grpc/grpc-js",
                    "@opentelemetry/auto-instrumentations-node",
                    "@opentelemetry/sdk-node",
                    "@opentelemetry/instrumentation-grpc",
                )
            },
        },
    }


# --- the whole bench -----------------------------------------------------------------


# Named variants for --variant: an extra run per pair, the traced (or untraced) run with more settings.
VARIANTS = {
    # The A/A control: a second untraced run. Its ratio to the first is the noise floor.
    "untraced-again": {"base": "untraced", "env": {}},
    # Spans wait in the batch processor's queue until shutdown: no export during the hot path.
    "deferred-export": {
        "base": "traced",
        "env": {
            "OTEL_BSP_SCHEDULE_DELAY": "3600000",
            "OTEL_BSP_MAX_QUEUE_SIZE": "1000000",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1000000",
        },
    },
}


def variant(text: str) -> tuple[str, dict]:
    """`NAME` (one of VARIANTS) or `NAME=VAR=VALUE[,VAR=VALUE...]` (on top of the traced run)."""
    name, _, settings = text.partition("=")
    if not settings:
        if name not in VARIANTS:
            raise argparse.ArgumentTypeError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}, or NAME=VAR=VALUE,...")
        return name, VARIANTS[name]
    try:
        return name, {"base": "traced", "env": dict(pair.split("=", 1) for pair in settings.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"--variant {text!r}: want NAME=VAR=VALUE[,VAR=VALUE...]") from None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=Path, required=True, help="clients.json written by the nox session")
    parser.add_argument("--repeat", type=int, default=1500, help="hot-path repetitions per run, N (default 1500)")
    parser.add_argument(
        "--warmup", type=int, default=500, help="calls of each kind left out at the start of each run (default 500)"
    )
    parser.add_argument("--pairs", type=int, default=6, help="A/B pairs per language (default 6)")
    parser.add_argument("--visibility-runs", type=int, default=3, help="plain runs per language timed to Jaeger (default 3)")
    parser.add_argument("--warm-starts", type=int, default=2, help="warm stack starts after the cold one (default 2)")
    parser.add_argument("--no-stack-starts", action="store_true", help="keep the running stack: no stop/start figures")
    parser.add_argument(
        "--approaches", default=",".join(a.id for a in load_all()), help="comma-separated <language>/<approach> (default: all)"
    )
    parser.add_argument(
        "--variant",
        type=variant,
        action="append",
        default=[],
        help=f"an extra run per pair: {', '.join(VARIANTS)} (the A/A noise floor; spans exported only at exit), "
        "or NAME=VAR=VALUE[,VAR=VALUE...] on top of the traced run; repeatable",
    )
    parser.add_argument(
        "--no-noise-floor", action="store_true", help="skip the A/A control (the untraced-again run of each pair)"
    )
    parser.add_argument("--client-timeout", type=float, default=600, help="seconds before a client run is killed (default 600)")
    args = parser.parse_args(argv)
    if not args.no_noise_floor and "untraced-again" not in dict(args.variant):
        args.variant.insert(0, ("untraced-again", VARIANTS["untraced-again"]))
    if args.repeat < 1 or args.pairs < 1 or not 0 <= args.warmup < args.repeat:
        parser.error("want --repeat >= 1, --pairs >= 1 and 0 <= --warmup < --repeat")
    return args


def measured(run: Run, rpc: str, warmup: int) -> list[float]:
    return run.latencies[rpc][warmup:]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spec = json.loads(args.clients.read_text())
    languages = [name for name in args.approaches.split(",") if name]
    unknown = [name for name in languages if name not in spec]
    if unknown:
        raise SystemExit(f"bench: no client spec for {unknown} in {args.clients}")
    variants = dict(args.variant)
    for name, settings in variants.items():
        for lang in languages:
            base = spec[lang][settings["base"]]
            spec[lang][name] = {"command": base["command"], "env": {**base["env"], **settings["env"]}}
    modes = ["traced", "untraced", *variants]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "repeat": args.repeat,
            "warmup": args.warmup,
            "pairs": args.pairs,
            "visibility_runs": args.visibility_runs,
            "warm_starts": 0 if args.no_stack_starts else args.warm_starts,
            "approaches": languages,
            "variants": variants,
            "consistency": CONSISTENCY,
            "hot_path": "after the query step: search (vector of id 0, top 5) then query (id in [10, 11, 12]), N times",
            "client_timeout_s": args.client_timeout,
        },
        "targets": {
            "p50_ratio_max": bench.RATIO_TARGET,
            "visible_after_exit_s_max": bench.VISIBLE_TARGET_S,
            "warm_start_s_max": bench.WARM_START_TARGET_S,
        },
        "definitions": {
            "ratio": "per A/B pair: p50 of the traced run's calls / p50 of the untraced run's (warm-up calls left out); "
            "median and min-max over pairs",
            "root_s": "client process reaped -> first GET /api/traces/<id> whose answer holds the root span (polled every 20 ms)",
            "complete_s": "client process reaped -> every contract RPC client span has its Milvus SERVER child "
            "(polled every 200 ms); this also proves that Milvus honours the traced clients' traceparent",
            "stack total_s": "wall time of `stack/stackctl.py up` (Jaeger, then Milvus, each until healthy)",
        },
        "approaches": {lang: {"untraced_switch": spec[lang]["untraced_switch"]} for lang in languages},
    }
    say(
        f"approaches {', '.join(languages)}; N={args.repeat} (first {args.warmup} left out), {args.pairs} pairs, "
        f"{args.visibility_runs} visibility runs; client timeout {args.client_timeout:.0f} s; load {report['machine']['load_start'][0]}"
    )
    for lang in languages:
        say(f"  {lang} untraced = {spec[lang]['untraced_switch']}")
    for name, settings in variants.items():
        say(f"  variant {name} = {settings['base']} + {settings['env']}")

    failures: list[str] = []
    report["stack"] = {} if args.no_stack_starts else stack_starts(args.warm_starts)
    stackctl_command("up", STACK_UP_TIMEOUT_S)  # reuses a healthy stack
    stack = stack_identity()
    jaeger = Jaeger()
    jaeger.check_reachable()

    say(f"visibility: {args.visibility_runs} plain runs per language, each followed by polling Jaeger")
    for i in range(1, args.visibility_runs + 1):
        for lang in languages:
            say(f"{lang} visibility run {i}/{args.visibility_runs} ...")
            check_stack(stack)
            run = run_client(spec, lang, "traced", f"visible-{i}", 0, args.client_timeout)
            figures = measure_visibility(jaeger, run)
            figures.update(wall_s=run.wall_s, load_1m_before=run.load_before)
            report["approaches"][lang].setdefault("visibility", {"runs": []})["runs"].append(figures)
            if figures.get("error"):
                failures.append(f"{lang} visibility run {i}: {figures['error']}")
            say(
                f"{lang} visibility run {i}: run {run.wall_s:.1f} s; root span after {figures['root_s']} s "
                f"({figures['polls']} polls), complete after {figures['complete_s']} s"
                + (f"; {figures['error']}" if figures.get("error") else "")
            )
    for lang in languages:
        visibility = report["approaches"][lang].get("visibility")
        if visibility:
            visibility["root_median_s"] = bench.median_or_none([r["root_s"] for r in visibility["runs"]])
            visibility["complete_median_s"] = bench.median_or_none([r["complete_s"] for r in visibility["runs"]])

    say(f"cost: {args.pairs} pairs per language of {' / '.join(modes)}, N={args.repeat}")
    runs: dict[str, list[dict[str, Run]]] = {lang: [] for lang in languages}
    checks: dict[str, list[dict]] = {lang: [] for lang in languages}
    for pair in range(1, args.pairs + 1):
        for lang in languages:
            group = {}
            for mode in modes:
                say(f"{lang} pair {pair}/{args.pairs} {mode} (load {load_1m()}) ...")
                check_stack(stack)
                run = run_client(spec, lang, mode, f"{mode}-{pair}", args.repeat, args.client_timeout)
                say(f"{lang} pair {pair}/{args.pairs} {mode}: {describe(run)}")
                if not run.ok or any(len(run.latencies.get(rpc, [])) != args.repeat for rpc in RPCS):
                    reason = run.failure() if not run.ok else "latencies missing in the run record"
                    failures.append(f"{lang} {mode} pair {pair}: {reason}")
                elif mode == "untraced":
                    check = check_untraced(spec[lang]["service_name"], run)
                    checks[lang].append(check)
                    say(
                        f"{lang} pair {pair}/{args.pairs} untraced check: {check['client_spans']} client spans; "
                        f"{check['server_search_spans_with_parent']} of {check['server_search_spans']} Milvus Search spans "
                        f"with a parent -> {'ok' if check['passed'] else 'FAILED'}"
                    )
                    if not check["passed"]:
                        failures.append(f"{lang} pair {pair}: untraced run not proven untraced: {check}")
                group[mode] = run
            runs[lang].append(group)

    for lang in languages:
        result = report["approaches"][lang]
        result["runs"] = [run.as_json() for group in runs[lang] for run in group.values()]
        result["untraced_checks"] = checks[lang]
        for mode in ["traced", *variants]:
            pairs = [
                (group[mode], group["untraced"])
                for group in runs[lang]
                if all(group[m].ok and all(group[m].latencies.get(r) for r in RPCS) for m in (mode, "untraced"))
            ]
            if not pairs:
                continue
            figures = {
                "rpcs": {
                    rpc: bench.compare(
                        [measured(a, rpc, args.warmup) for a, _ in pairs], [measured(b, rpc, args.warmup) for _, b in pairs]
                    )
                    for rpc in RPCS
                },
                "rpcs_all_calls": {
                    rpc: bench.compare([measured(a, rpc, 0) for a, _ in pairs], [measured(b, rpc, 0) for _, b in pairs])
                    for rpc in RPCS
                },
                "wall_s": {
                    "traced": bench.median_or_none([a.wall_s for a, _ in pairs]),
                    "untraced": bench.median_or_none([b.wall_s for _, b in pairs]),
                },
            }
            cpu = [(a.cpu_us_per_call(), b.cpu_us_per_call()) for a, b in pairs]
            if all(a is not None and b is not None for a, b in cpu):
                figures["cpu"] = bench.compare_cpu([a for a, _ in cpu], [b for _, b in cpu])
            if mode == "traced":
                result.update(figures)
            else:
                result.setdefault("variants", {})[mode] = {"settings": variants[mode], **figures}
        if "rpcs" not in result:
            result["error"] = "no complete A/B pair"

    report["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["wall_s"] = round(time.monotonic() - _started, 1)
    report["missed"] = bench.misses(report)
    report["failures"] = failures
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORTS_DIR / "bench.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(bench.render(report))
    print()
    say(f"done in {report['wall_s']:.0f} s; every figure in {path}")
    if failures:
        print("bench: failures:\n" + "\n".join(f"  - {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except StackChanged as error:
        sys.exit(f"bench: stopped: {error}")
