"""One run: the root span around the scenario, and the run record (conformance/SCENARIO.md).

Settings: MILVUS_URI, MILVUS_TOKEN, the DEMO_* ones (read by harness.py), and the standard
OTEL_* variables, read by whichever SDK setup the approach made."""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Callable

from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from milvus_demo import BadSetting, Failure, harness

LANGUAGE = "python"
DEFAULT_URI = "http://127.0.0.1:19530"
URI_FORM = re.compile(r"(https?://)?[\w.-]+:\d{1,5}")


def milvus_uri() -> str:
    """MILVUS_URI as a URL. pymilvus reads MILVUS_URI itself when imported, takes only URLs
    and raises on anything else, so this runs first and leaves the URL in its place."""
    uri = os.environ.get("MILVUS_URI") or DEFAULT_URI
    if not URI_FORM.fullmatch(uri):
        # Not the value itself: pymilvus also takes http://user:password@host:port.
        raise BadSetting(f"MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. {DEFAULT_URI}")
    if "://" not in uri:
        uri = os.environ["MILVUS_URI"] = f"http://{uri}"
    return uri


class ExportFailures(logging.Handler):
    """Takes the OTLP exporter's own logging off the terminal (a warning per retry, an error
    per lost batch, sometimes a traceback) and keeps the first lost batch's reason, for the
    one warning line the run prints after its final flush."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reason: str | None = None
        exporter_log = logging.getLogger("opentelemetry.exporter.otlp")
        exporter_log.addHandler(self)
        exporter_log.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        self.reason = self.reason or record.getMessage().splitlines()[0]


def main(default_approach: str, flush: Callable[[], object]) -> int:
    """Runs the scenario under the global tracer provider, then flush() (the approach's
    way to export what is left). Returns the exit status: 0 only if every step succeeded."""
    approach = harness.approach(default_approach)
    export_failures = ExportFailures()
    bad_setting = None
    try:
        hooks = harness.Harness.from_env()
        uri = milvus_uri()
        from milvus_demo import scenario  # imports pymilvus (~1 s): after the check, before the root span
    except BadSetting as error:
        bad_setting = error
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
            if bad_setting:
                raise bad_setting
            data = scenario.Data.load(LANGUAGE, approach, harness.scenario_file())
            bench = scenario.run(tracer, uri, data, hooks, token=os.environ.get("MILVUS_TOKEN", ""))
            if bench:
                record["bench"], record["bench_cpu_ms"] = bench
        except Exception as error:  # the run record must say what failed, whatever it was
            root.record_exception(error)
            root.set_status(Status(StatusCode.ERROR, str(error)))
            told = error if isinstance(error, Failure) else f"{type(error).__name__}: {error}"
            record.update(exit_status=getattr(error, "exit_status", 1), error=str(told).splitlines()[0])
    record["duration_s"] = round(time.monotonic() - started, 3)
    flush()
    if export_failures.reason:
        print(f"warning: spans were not exported, the trace is incomplete: {export_failures.reason}", file=sys.stderr)

    line = json.dumps(record)
    harness.write_record(line)
    print(line)
    if record["error"]:
        print(record["error"], file=sys.stderr)
    return record["exit_status"]
