"""`nox -s faults`: every approach under every fault of conformance/faults/__init__.py, against the
real stack; writes reports/faults.json and reports/faults.md. Kills and restarts the
stack's Milvus (the milvus_killed fault). Exit 1 when a bound was missed."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import sys
import time
from pathlib import Path

from conformance.faults import FAULTS, Trial, describe, fault_rows, figures, kill_group, process
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.runs import load_scenario
from stack import supervisor
from stack.addresses import StackError, milvus_token

ROOT = Path(__file__).resolve().parents[2]
RUNS_DIR = ROOT / ".runs" / "faults"
REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", ROOT / "reports"))
CLIENT_TIMEOUT_S = 180


def say(message: str) -> None:
    print(f"[faults] {message}", flush=True)


def stack_up() -> None:
    """The stack's `up`, its progress not shown (it runs after every Milvus kill)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            supervisor.up()
    except StackError as error:
        raise SystemExit(f"faults: the stack's `up` failed: {error}") from None


def kill_milvus() -> None:
    pgid = supervisor.milvus_pgid()
    if not pgid:
        raise SystemExit("faults: no Milvus of the embedded stack to kill (is STACK_BACKEND=docker? not supported here)")
    kill_group(pgid)


def runner(client: dict, slug: str):
    def run(overrides: dict[str, str], on_line=None) -> process.Outcome:
        env = {**os.environ, **client["traced"]["env"], **overrides}
        env.pop("OTEL_SDK_DISABLED", None)
        if token := milvus_token():  # read at each run: a Milvus restart makes a new one
            env["MILVUS_TOKEN"] = token
        record = RUNS_DIR / f"{slug}.json"
        env["DEMO_RUN_RECORD"] = str(record)
        return process.run(client["traced"]["command"], Path(client["cwd"]), env, record, CLIENT_TIMEOUT_S, on_line)

    return run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s faults --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=Path, required=True, help="the client spec the nox session writes")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    args = parser.parse_args(argv)
    args.faults = [name for name in args.faults.split(",") if name]
    unknown = [name for name in args.faults if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return args


def markdown(report: dict) -> str:
    faults = report["faults"]
    lines = [
        "# When things go wrong",
        "",
        f"Every approach under each fault, against the real stack ({report['generated_at']}).",
        "Cells: exit status and wall time, or what missed the bound.",
        "",
        "| fault | what happens | bound |",
        "|---|---|---|",
        *(f"| `{name}` | {fault['what']} | {fault['expect']} |" for name, fault in faults.items()),
        "",
        "| approach | normal | " + " | ".join(f"`{name}`" for name in faults) + " |",
        "|---|---|" + "---|" * len(faults),
    ]
    def render(cell: dict | None) -> str:
        if cell is None:
            return "not run"
        text = figures(cell)
        if cell["problems"]:
            text = "**missed**: " + "; ".join(cell["problems"]) + f" ({text})"
        if cell.get("first_new_stderr_line"):
            text += f" — `{cell['first_new_stderr_line'][:160]}`"
        return text.replace("|", "\\|")

    for approach, normal_s, cells in fault_rows(report, render):
        lines.append(f"| {approach} | {normal_s:.1f} s | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spec = json.loads(args.clients.read_text())
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    stack_up()
    jaeger = Jaeger()
    try:
        jaeger.check_reachable()
    except JaegerUnreachable as error:
        raise SystemExit(f"faults: {error}") from None
    scenario = load_scenario()
    report = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "faults": {name: {"what": FAULTS[name].what, "expect": FAULTS[name].expect} for name in args.faults},
        "approaches": {},
    }
    started = time.monotonic()
    for approach, client in spec.items():
        run = runner(client, approach.replace("/", "-"))
        normal = run({})
        say(f"{approach}: normal run exit {normal.exit_status} in {normal.wall_s:.1f} s")
        result = report["approaches"][approach] = {"normal": describe(normal), "faults": {}}
        if normal.exit_status != 0:
            say(f"{approach}: the normal run failed; its faults are not run")
            continue
        trial = Trial(approach, normal, run, jaeger, scenario, kill_milvus, stack_up)
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
    sys.exit(main(sys.argv[1:]))
