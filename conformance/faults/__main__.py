"""`nox -s faults`: every approach under every fault of conformance/faults/__init__.py, against the
real stack; writes reports/faults.json and reports/faults.md. Kills and restarts the
stack's Milvus (the milvus_killed fault). Exit 1 when a bound was missed."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conformance.faults import FAULTS, Trial, describe, kill_group, process
from conformance.faults.table import markdown
from conformance.jaeger import Jaeger, JaegerUnreachable
from conformance.runs import load_scenario
from stack import stackctl

ROOT = Path(__file__).resolve().parents[2]
RUNS_DIR = ROOT / ".runs" / "faults"
REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", ROOT / "reports"))
CLIENT_TIMEOUT_S = 180
STACK_TIMEOUT_S = stackctl.MILVUS_START_TIMEOUT_S + stackctl.INSTALL_TIMEOUT_S + 60


def say(message: str) -> None:
    print(f"[faults] {message}", flush=True)


def stackctl_up() -> None:
    command = [sys.executable, str(ROOT / "stack" / "stackctl.py"), "up"]
    if subprocess.run(command, timeout=STACK_TIMEOUT_S, stdout=subprocess.DEVNULL).returncode != 0:
        raise SystemExit("faults: `stack/stackctl.py up` failed; see its output with `nox -s up`")


def kill_milvus() -> None:
    pgid = stackctl.running_pgid(stackctl.load_state(), "milvus")
    if not pgid:
        raise SystemExit("faults: no Milvus of the embedded stack to kill (is STACK_BACKEND=docker? not supported here)")
    kill_group(pgid)


def runner(client: dict, slug: str):
    def run(overrides: dict[str, str], on_line=None) -> process.Outcome:
        env = {**os.environ, **client["traced"]["env"], **overrides}
        env.pop("OTEL_SDK_DISABLED", None)
        if token := stackctl.milvus_token():  # read at each run: a Milvus restart makes a new one
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


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spec = json.loads(args.clients.read_text())
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    stackctl_up()
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
        trial = Trial(approach, normal, run, jaeger, scenario, kill_milvus, stackctl_up)
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
