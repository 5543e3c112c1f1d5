"""One run: the root span around the scenario, and the run record (conformance/SCENARIO.md).

Settings: MILVUS_URI, DEMO_APPROACH, DEMO_SCENARIO, DEMO_RUN_RECORD, DEMO_BENCH_REPEAT,
and the standard OTEL_* variables, read by whichever SDK setup the approach made."""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import uuid
from typing import Callable

from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from milvus_demo import scenario

LANGUAGE = "python"
DEFAULT_URI = "http://127.0.0.1:19530"


def bench_repeat() -> int:
    value = os.environ.get("DEMO_BENCH_REPEAT") or "0"
    if not value.isdigit():
        raise ValueError(f"DEMO_BENCH_REPEAT={value!r}: want a whole number >= 0")
    return int(value)


def main(default_approach: str, flush: Callable[[], object]) -> int:
    """Runs the scenario under the global tracer provider, then flush() (the approach's
    way to export what is left). Returns the exit status: 0 only if every step succeeded."""
    approach = os.environ.get("DEMO_APPROACH") or default_approach
    tracer = trace.get_tracer("milvus-otel-demo")
    record = {
        "language": LANGUAGE,
        "approach": approach,
        "service_name": os.environ.get("OTEL_SERVICE_NAME"),
        "run_id": str(uuid.uuid4()),
        "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "exit_status": 0,
        "error": None,
    }
    started = time.monotonic()
    with tracer.start_as_current_span("milvus-otel-demo", attributes={"demo.run_id": record["run_id"]}) as root:
        record["trace_id"] = trace.format_trace_id(root.get_span_context().trace_id)
        headers: dict[str, str] = {}
        propagate.inject(headers)  # what the gRPC instrumentation sends, for the suite's diagnostics
        record["traceparent"] = headers.get("traceparent")
        try:
            data = scenario.Data.load(LANGUAGE, approach)
            bench = scenario.run(tracer, os.environ.get("MILVUS_URI") or DEFAULT_URI, data, bench_repeat())
            if bench:
                record["bench"], record["bench_cpu_ms"] = bench
        except Exception as error:  # the run record must say what failed, whatever it was
            root.record_exception(error)
            root.set_status(Status(StatusCode.ERROR, str(error)))
            record.update(exit_status=1, error=f"{type(error).__name__}: {error}".splitlines()[0])
    record["duration_s"] = round(time.monotonic() - started, 3)
    flush()

    line = json.dumps(record)
    if os.environ.get("DEMO_RUN_RECORD"):
        with open(os.environ["DEMO_RUN_RECORD"], "w", encoding="utf-8") as out:
            out.write(line + "\n")
    print(line)
    if record["error"]:
        print(f"milvus-otel-demo failed: {record['error']}", file=sys.stderr)
    return record["exit_status"]
