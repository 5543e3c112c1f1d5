"""python -m conformance.matrix [options]: run every cell, then read the traces back from
Jaeger and write reports/matrix.{json,md}. `nox -s matrix` calls it, once the approaches
the cells run are built. Options: --help."""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import re
import sys
import time
from pathlib import Path

from conformance.approaches import Approach, ManifestError, find, load_all
from conformance.checks import Subject, evaluate
from conformance.jaeger import Jaeger, JaegerUnreachable, load_run
from conformance.matrix import APPROACHES, table, versions
from conformance.matrix.cells import Cell, CellError, GoCell, JavaAgentCell, NodeCell, PythonCell, run_client
from conformance.paths import REPORTS_DIR, ROOT
from conformance.runs import load_scenario
from conformance.spans import server_child, traceparent_flags

CACHE = ROOT / ".matrix"
# Milvus exports its spans in batches, 20 s and more after the call. Each run is read back
# while the next cells run: a busy shared Jaeger (in-memory, bounded) drops old traces.
WAIT_AFTER_RUN_S = 60.0

# The first Python release that announces random trace ids (traceparent ...-03): in 1.42.0
# the TracerProvider ORs TraceFlags.RANDOM_TRACE_ID into new root spans' flags when
# id_generator.is_trace_id_random(); 1.41.1 has neither (opentelemetry/sdk/trace/__init__.py).
PYTHON_FLAG_RELEASE = "1.42.0"
# The Java agent release said to start sending -03 (SDK 1.60); the matrix shows whether it does.
JAVA_FLAG_RELEASE = "2.26.0"
OTELGRPC = "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
GO_OTEL = ("go.opentelemetry.io/otel", "go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/trace", "go.opentelemetry.io/otel/metric")
NODE_SDK = ("@opentelemetry/sdk-node", "@opentelemetry/exporter-trace-otlp-grpc", "@opentelemetry/instrumentation-grpc")
IN_USE = "in-use"  # the versions go/go.mod or nodejs/package.json pin

# What the cells try: the one list. A request is a version, `newest`, `before:X` or `after:X`.
DEFAULTS = {
    "languages": "python,java,go,node",
    "python_sdk": f"1.33.1,before:{PYTHON_FLAG_RELEASE},{PYTHON_FLAG_RELEASE},after:{PYTHON_FLAG_RELEASE},newest",
    "pymilvus": "2.5.9,newest",
    "java_agent": f"before:{JAVA_FLAG_RELEASE},{JAVA_FLAG_RELEASE},newest",
    # otel/otelgrpc: the oldest that go.mod's other pins accept (otel: grpc 1.83 and otlptracegrpc
    # 1.45; otelgrpc: milvus client 2.6.5 needs v0.59.0, older downgrades it to one that does not build).
    "go": f"{IN_USE},v1.45.0/v0.59.0",
    "node_sdk": f"{IN_USE},0.210.0",
}


class Listings:
    """Each registry listing read once per run."""

    def __init__(self):
        self.cache: dict[tuple, list[str]] = {}

    def get(self, reader, *name: str) -> list[str]:
        if name not in self.cache:
            self.cache[name] = reader(*name)
        return self.cache[name]


def plan_python(sdk_requests, pymilvus_requests, listings) -> list[Cell]:
    cells = []
    for sdk_request in sdk_requests:
        for pymilvus_request in pymilvus_requests:
            shown = {"opentelemetry-sdk": sdk_request, "pymilvus": pymilvus_request}
            try:
                sdk = versions.resolve(sdk_request, listings.get(versions.pypi, "opentelemetry-sdk"), "opentelemetry-sdk", "PyPI")
                contrib = versions.resolve(versions.python_contrib(sdk), listings.get(versions.pypi, "opentelemetry-instrumentation-grpc"), "opentelemetry-instrumentation-grpc", "PyPI")
                pymilvus = versions.resolve(pymilvus_request, listings.get(versions.pypi, "pymilvus"), "pymilvus", "PyPI")
            except versions.Unresolvable as error:
                cells.append(PythonCell("python", "python/sdk", "", shown, True, error=str(error)))
                continue
            pins = {"opentelemetry-sdk": sdk, "opentelemetry-exporter-otlp-proto-grpc": sdk, "opentelemetry-instrumentation-grpc": contrib, "pymilvus": pymilvus}
            cells.append(PythonCell("python", "python/sdk", f"python-sdk-{sdk}-pymilvus-{pymilvus}", pins, True))
    return cells


def plan_java(requests, listings) -> list[Cell]:
    cells = []
    for request in requests:
        try:
            version = versions.resolve(request, listings.get(versions.maven, "io.opentelemetry.javaagent", "opentelemetry-javaagent"), "opentelemetry-javaagent", "Maven Central")
        except versions.Unresolvable as error:
            cells.append(JavaAgentCell("java", "java/agent", "", {"opentelemetry-javaagent": request}, True, error=str(error)))
            continue
        cells.append(JavaAgentCell("java", "java/agent", f"java-agent-{version}", {"opentelemetry-javaagent": version}, True))
    return cells


def go_in_use() -> dict[str, str]:
    go_mod = (ROOT / "go" / "go.mod").read_text()
    return {name: re.search(rf"^\s*{re.escape(module)} (\S+)", go_mod, re.M).group(1) for name, module in (("otel", GO_OTEL[1]), ("otelgrpc", OTELGRPC))}


def plan_go(requests, listings) -> list[Cell]:
    cells = []
    for request in requests:
        if request == IN_USE:
            cells.append(GoCell("go", "go/otelgrpc", "go-in-use", go_in_use(), False))
            continue
        otel, _, otelgrpc = request.partition("/")
        shown = {"otel": otel, "otelgrpc": otelgrpc}
        try:
            if not otelgrpc:
                raise versions.Unresolvable(f"go cell {request!r}: want <otel version>/<otelgrpc version>, e.g. v1.45.0/v0.59.0")
            otel = versions.resolve(otel, listings.get(versions.go_proxy, GO_OTEL[1]), GO_OTEL[1], "the Go module proxy")
            otelgrpc = versions.resolve(otelgrpc, listings.get(versions.go_proxy, OTELGRPC), "otelgrpc", "the Go module proxy")
        except versions.Unresolvable as error:
            cells.append(GoCell("go", "go/otelgrpc", "", shown, False, error=str(error)))
            continue
        get = ["go", "get", *(f"{module}@{otel}" for module in GO_OTEL), f"{OTELGRPC}@{otelgrpc}"]
        cells.append(GoCell("go", "go/otelgrpc", f"go-otel-{otel}-otelgrpc-{otelgrpc}", {"otel": otel, "otelgrpc": otelgrpc}, False, install=[get]))
    return cells


def plan_node(requests, listings) -> list[Cell]:
    cells = []
    ci = ["npm", "ci", "--no-audit", "--no-fund"]
    for request in requests:
        if request == IN_USE:
            version = json.loads((ROOT / "nodejs" / "package.json").read_text())["dependencies"][NODE_SDK[0]]
            cells.append(NodeCell("node", "node/sdk", "node-in-use", {NODE_SDK[0]: version}, False, install=[ci]))
            continue
        try:
            version = versions.resolve(request, listings.get(versions.npm, NODE_SDK[0]), NODE_SDK[0], "npm")
        except versions.Unresolvable as error:
            cells.append(NodeCell("node", "node/sdk", "", {NODE_SDK[0]: request}, False, error=str(error)))
            continue
        install = ["npm", "install", "--no-audit", "--no-fund", *(f"{package}@{version}" for package in NODE_SDK)]
        cells.append(NodeCell("node", "node/sdk", f"node-sdk-{version}", {NODE_SDK[0]: version}, False, install=[ci, install]))
    return cells


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s matrix --", description="Runs every cell, then reads its traces back from Jaeger.")
    parser.error = lambda message: sys.exit(f"matrix: {message}")  # one line, not usage + message
    option_help = {
        "languages": "which languages' cells run",
        "python_sdk": "opentelemetry-sdk / -exporter-otlp-proto-grpc releases (instrumentation-grpc: the matching 0.Xb)",
        "pymilvus": "pymilvus releases, each with every SDK release",
        "java_agent": "opentelemetry-javaagent releases",
        "go": f"<otel>/<otelgrpc> pairs, or {IN_USE} (go/go.mod)",
        "node_sdk": f"@opentelemetry/sdk-node (+ exporter, instrumentation-grpc) releases, or {IN_USE}",
    }
    for name, default in DEFAULTS.items():
        parser.add_argument("--" + name.replace("_", "-"), default=default, help=f"{option_help[name]}; comma-separated (default: {default})")
    args = parser.parse_args(argv)
    unknown = set(args.languages.split(",")) - set(DEFAULTS["languages"].split(","))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(sorted(unknown))}; known: {DEFAULTS['languages']}")
    try:
        approaches = load_all()
        args.approaches = {approach_id: find(approaches, approach_id) for approach_id in APPROACHES}
    except ManifestError as error:
        parser.error(str(error))
    return args


def plan(args: argparse.Namespace) -> list[Cell]:
    listings = Listings()
    split = lambda value: [item.strip() for item in value.split(",") if item.strip()]
    planners = {
        "python": lambda: plan_python(split(args.python_sdk), split(args.pymilvus), listings),
        "java": lambda: plan_java(split(args.java_agent), listings),
        "go": lambda: plan_go(split(args.go), listings),
        "node": lambda: plan_node(split(args.node_sdk), listings),
    }
    return [cell for language in split(args.languages) for cell in planners[language]()]


def say(message: str) -> None:
    print(f"[matrix] {message}", flush=True)


def label(cell: Cell) -> str:
    return f"{cell.approach} " + ", ".join(f"{package} {version}" for package, version in cell.versions.items())


def run_cells(cells: list[Cell], approaches: dict[str, Approach], read_back) -> dict[tuple[int, str], concurrent.futures.Future]:
    """Prepares and runs every cell in turn (one client at a time: 2 cores, one collection);
    read_back(record) starts reading each run's trace from Jaeger at once."""
    pending = {}
    for index, cell in enumerate(cells, 1):
        prefix = f"{index}/{len(cells)} {label(cell)}:"
        if cell.error:
            say(f"{prefix} {cell.error}")
            continue
        folder = CACHE / cell.key
        folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            cell.prepare(folder, approaches[cell.approach])
            prepared_s = time.monotonic() - started
            timings = []
            for variant in cell.variants():
                record, took = run_client(cell, folder, approaches[cell.approach], variant == "with_fix")
                pending[index, variant] = read_back(record)
                timings.append(f"{table.VARIANTS[variant]} {took:.1f} s")
        except CellError as error:
            cell.error = str(error)
            say(f"{prefix} {cell.error}")
            continue
        say(f"{prefix} environment {prepared_s:.1f} s; ran {', '.join(timings)}")
    return pending


def outcome(path: Path, scenario: dict, jaeger: Jaeger) -> dict:
    record = json.loads(path.read_text())
    if record.get("exit_status") != 0:
        return {"error": f"client failed: {record.get('error')}"}
    run = load_run(jaeger, record, scenario, WAIT_AFTER_RUN_S)
    if run.trace is None:
        return {"error": f"trace {record.get('trace_id')} not in Jaeger after {run.waited_s:.0f} s"}
    clients = Subject(run, scenario).contract_client_spans()
    linked = sum(server_child(scenario, client) is not None for client in clients)
    return table.outcome(traceparent_flags(record.get("traceparent")), linked, len(clients), evaluate(run, scenario, "server_links").reason)


def main(argv: list[str]) -> int:
    args = arguments(argv)
    started, wall = time.monotonic(), datetime.datetime.now(datetime.timezone.utc)
    scenario = load_scenario()
    jaeger = Jaeger()
    try:
        jaeger.check_reachable()
    except JaegerUnreachable as error:
        sys.exit(f"matrix: {error}")
    cells = plan(args)
    say(f"{len(cells)} cells: " + "; ".join(label(cell) for cell in cells))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as readers:
        pending = run_cells(cells, args.approaches, lambda record: readers.submit(outcome, record, scenario, jaeger))
        say(f"reading the last of {len(pending)} traces back from Jaeger (up to {WAIT_AFTER_RUN_S:.0f} s for Milvus's spans)")
        for (index, variant), future in pending.items():
            cells[index - 1].results[variant] = future.result()
    for cell in cells:
        if not cell.error:
            flags, linked = zip(*(table.shown(cell.results.get(v), cell.fixable) for v in table.VARIANTS))
            say(f"{label(cell)}: flags {flags[0]}, linked {linked[0]}" + (f"; with the fix: flags {flags[1]}, linked {linked[1]}" if cell.fixable else ""))
    report = {
        "started_at": wall.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "cells": [{"approach": c.approach, "versions": c.versions, "fixable": c.fixable, "error": c.error, "results": c.results} for c in cells],
    }
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "matrix.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS_DIR / "matrix.md").write_text(table.markdown(report))
    say(f"{report['duration_s']:.0f} s; wrote {REPORTS_DIR / 'matrix.md'} and {REPORTS_DIR / 'matrix.json'}")
    failed = [c for c in cells if c.error]
    if failed:
        say(f"{len(failed)} of {len(cells)} cells could not run; each says why above and in matrix.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
