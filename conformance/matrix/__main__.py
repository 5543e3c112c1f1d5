"""python -m conformance.matrix [options]: run every cell, then read the traces back from
Jaeger and write reports/matrix.{json,md}. `nox -s matrix` calls it, once the approaches
the cells run are built. Options: --help; the per-language ones are the manifests' (plans.py)."""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import sys
import time
from pathlib import Path

from conformance.approaches import Approach, ManifestError, load_all
from conformance.checks import Subject, evaluate
from conformance.jaeger import Jaeger, JaegerUnreachable, load_run
from conformance.matrix import plans, table
from conformance.matrix.cells import Cell, CellError, run_client
from conformance.paths import REPORTS_DIR, ROOT
from conformance.runs import load_scenario
from conformance.semconv.classify import classify, load
from conformance.spans import server_child, traceparent_flags

CACHE = ROOT / ".matrix"
# Milvus exports its spans in batches, 20 s and more after the call. Each run is read back
# while the next cells run: a busy shared Jaeger (in-memory, bounded) drops old traces.
WAIT_AFTER_RUN_S = 60.0


def arguments(argv: list[str], manifests: list[Approach]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s matrix --", description="Runs every cell, then reads its traces back from Jaeger.")
    parser.error = lambda message: sys.exit(f"matrix: {message}")  # one line, not usage + message
    found = plans.options(manifests)
    for name, (default, option_help) in found.items():
        parser.add_argument("--" + name, default=default, help=f"{option_help}; comma-separated (default: {default})")
    args = parser.parse_args(argv)
    known = found["languages"][0]
    unknown = set(args.languages.split(",")) - set(known.split(","))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(sorted(unknown))}; known: {known}")
    return args


def plan(args: argparse.Namespace, manifests: list[Approach]) -> list[Cell]:
    listings = plans.Listings()
    split = lambda value: [item.strip() for item in value.split(",") if item.strip()]
    cells = []
    for language in split(args.languages):
        for approach in (a for a in plans.matrixed(manifests) if a.language == language):
            requests = [split(getattr(args, axis.option.replace("-", "_"))) for axis in approach.matrix.axes]
            switch = approach.matrix.switch
            switched = split(getattr(args, switch.option.replace("-", "_"))) if switch else []
            cells += plans.plan(approach, requests, listings, switched)
    return cells


def say(message: str) -> None:
    print(f"[matrix] {message}", flush=True)


def label(cell: Cell) -> str:
    return f"{cell.approach} " + ", ".join([*(f"{package} {version}" for package, version in cell.versions.items()), *table.settings(cell.settings)])


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
    subject = Subject(run, scenario)
    clients = subject.contract_client_spans()
    linked = sum(server_child(scenario, client) is not None for client in clients)
    conventions = classify(subject.client_rpc_spans())
    return table.outcome(
        traceparent_flags(record.get("traceparent")), linked, len(clients), evaluate(run, scenario, "server_links").reason, conventions
    )


def main(argv: list[str]) -> int:
    try:
        manifests = load_all()
        args = arguments(argv, manifests)
    except ManifestError as error:
        sys.exit(f"matrix: {error}")
    started, wall = time.monotonic(), datetime.datetime.now(datetime.timezone.utc)
    scenario = load_scenario()
    jaeger = Jaeger()
    try:
        jaeger.check_reachable()
    except JaegerUnreachable as error:
        sys.exit(f"matrix: {error}")
    cells = plan(args, manifests)
    say(f"{len(cells)} cells: " + "; ".join(label(cell) for cell in cells))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as readers:
        pending = run_cells(cells, {a.id: a for a in plans.matrixed(manifests)}, lambda record: readers.submit(outcome, record, scenario, jaeger))
        say(f"reading the last of {len(pending)} traces back from Jaeger (up to {WAIT_AFTER_RUN_S:.0f} s for Milvus's spans)")
        for (index, variant), future in pending.items():
            cells[index - 1].results[variant] = future.result()
    for cell in cells:
        if not cell.error:
            flags, linked = zip(*(table.shown(cell.results.get(v), cell.fixable) for v in table.VARIANTS))
            say(f"{label(cell)}: flags {flags[0]}, linked {linked[0]}, generation {table.generation(cell.results.get('out_of_the_box'))}" + (f"; with the fix: flags {flags[1]}, linked {linked[1]}" if cell.fixable else ""))
    report = {
        "started_at": wall.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "semconv_release": load()["release"],
        "cells": [
            {"approach": c.approach, "versions": c.versions, "settings": c.settings, "fixable": c.fixable, "error": c.error, "results": c.results}
            for c in cells
        ],
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
