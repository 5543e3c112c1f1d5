"""Refreshes the recorded traces the unit tests read, from real runs in the running stack.

python -m conformance.tests.record                    every approach's last run (.runs/)
python -m conformance.tests.record NAME RECORD.json   one run under another name, with Milvus's
                                                      root spans of its time window (unlinked runs)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.approaches import load_all
from conformance.jaeger import Jaeger, load_run
from conformance.runs import load_scenario, read_record

RECORDED = Path(__file__).resolve().parent / "recorded"
SCENARIO = load_scenario()


def save(jaeger: Jaeger, name: str, record: dict, window: bool = False) -> None:
    load_run(jaeger, record, SCENARIO)  # waits until Milvus's spans are in, or 60 s
    response = jaeger._get(f"/api/traces/{record['trace_id']}")
    response.raise_for_status()
    (RECORDED / f"{name}.run.json").write_text(json.dumps(record) + "\n")
    (RECORDED / f"{name}.trace.json").write_text(json.dumps(response.json()) + "\n")
    if window:
        spans = response.json()["data"][0]["spans"]
        start = min(span["startTime"] for span in spans)
        end = max(span["startTime"] + span["duration"] for span in spans) + 1_000_000
        roots = jaeger._get(
            "/api/traces", service=SCENARIO["server_service"], start=start, end=end, limit=2000,
            tags=json.dumps({"rpc.service": SCENARIO["rpc_service"]}),
        )
        roots.raise_for_status()
        (RECORDED / f"{name}.standalone-window.json").write_text(json.dumps(roots.json()) + "\n")
    print(f"recorded {name}: trace {record['trace_id']}")


def main(argv: list[str]) -> int:
    jaeger = Jaeger()
    jaeger.check_reachable()
    if argv:
        name, record_file = argv
        save(jaeger, name, json.loads(Path(record_file).read_text()), window=True)
        return 0
    for approach in load_all():
        record = read_record(approach)
        if record is None:
            print(f"no run record for {approach.id}: run `nox -s \"{approach.session()}\"` first", file=sys.stderr)
            continue
        save(jaeger, approach.slug, record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
