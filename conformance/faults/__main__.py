"""`nox -s faults`: every approach under every fault of conformance/faults/__init__.py, against the
real stack; writes reports/faults.json and reports/faults.md. Kills and restarts the
stack's Milvus (the milvus_killed fault). Exit 1 when a bound was missed.

    python -m conformance.faults [--approaches <language>/<approach>,...] [--faults ...]

The approaches must be built (the nox session builds the ones it is given)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import sys
import time
from collections.abc import Callable

from conformance.approaches import Approach, ManifestError, load_all, select
from conformance.faults import FAULTS, Trial, describe, kill_group
from conformance.faults.table import markdown
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.paths import REPORTS_DIR, RUNS_DIR
from conformance.runner import Outcome, launch, run
from conformance.runs import load_scenario
from stack import supervisor
from stack.addresses import StackError

FAULTS_RUNS_DIR = RUNS_DIR / "faults"
CLIENT_TIMEOUT_S = 180


class StackUnusable(Exception):
    """The stack cannot be started or faulted as the run needs; one line."""


def say(message: str) -> None:
    print(f"[faults] {message}", flush=True)


def stack_up() -> None:
    """The stack's `up`, its progress not shown (it runs after every Milvus kill)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            supervisor.up()
    except StackError as error:
        raise StackUnusable(f"the stack's `up` failed: {error}") from None


def kill_milvus() -> None:
    pgid = supervisor.milvus_pgid()
    if not pgid:
        raise StackUnusable("no Milvus of the embedded stack to kill (is STACK_BACKEND=docker? not supported here)")
    kill_group(pgid)


def client_runner(approach: Approach) -> Callable[..., Outcome]:
    """run(env overrides, on_line=None): one traced run of the approach's client (the token read
    at each run: a Milvus restart makes a new one)."""
    record = FAULTS_RUNS_DIR / f"{approach.slug}.json"

    def run_client(overrides: dict[str, str], on_line: Callable[[str], None] | None = None) -> Outcome:
        return run(launch(approach, record, env=overrides), CLIENT_TIMEOUT_S, on_line)

    return run_client


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s faults --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approaches", help="comma-separated <language>/<approach> (default: every one)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    args = parser.parse_args(argv)
    try:
        approaches = load_all()
        args.approaches = select(approaches, args.approaches) if args.approaches else approaches
    except ManifestError as error:
        parser.error(str(error))
    args.faults = [name for name in args.faults.split(",") if name]
    unknown = [name for name in args.faults if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stack_up()
    jaeger = Jaeger()
    jaeger.check_reachable()
    scenario = load_scenario()
    report = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "faults": {name: {"what": FAULTS[name].what, "expect": FAULTS[name].expect} for name in args.faults},
        "approaches": {},
    }
    started = time.monotonic()
    for chosen in args.approaches:
        approach, run_client = chosen.id, client_runner(chosen)
        normal = run_client({})
        say(f"{approach}: normal run exit {normal.exit_status} in {normal.wall_s:.1f} s")
        result = report["approaches"][approach] = {"normal": describe(normal), "faults": {}}
        if normal.exit_status != 0:
            say(f"{approach}: the normal run failed; its faults are not run")
            continue
        trial = Trial(normal, run_client, jaeger, scenario, kill_milvus, stack_up)
        for name in args.faults:
            cell: dict = {}
            cell["problems"] = FAULTS[name].function(trial, cell)
            result["faults"][name] = cell
            verdict = "within bounds" if not cell["problems"] else "MISSED: " + "; ".join(cell["problems"])
            say(f"{approach} {name}: exit {cell['exit_status']} in {cell['wall_s']:.1f} s, {verdict}")
    say(f"done in {time.monotonic() - started:.0f} s")
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "faults.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS_DIR / "faults.md").write_text(markdown(report))
    say(f"written to {REPORTS_DIR / 'faults.json'} and {REPORTS_DIR / 'faults.md'}")
    missed = [
        f"{approach} {name}" for approach, r in report["approaches"].items() for name, c in r["faults"].items() if c["problems"]
    ]
    failed = [approach for approach, r in report["approaches"].items() if r["normal"]["exit_status"] != 0]
    if missed or failed:
        say(f"bounds missed: {', '.join(missed) or 'none'}; normal runs failed: {', '.join(failed) or 'none'}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (StackUnusable, JaegerUnreachable) as error:
        sys.exit(f"faults: {error}")
