"""Zero code: `opentelemetry-instrument python -m milvus_demo`. The distro has set up the
SDK from OTEL_* and instrumented grpc before this runs; the app only flushes at the end."""

import sys

from opentelemetry import trace

from milvus_demo.run import main


def flush() -> None:
    # The SDK's provider also shuts down at exit; flushing first keeps the export inside the run.
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if force_flush:
        force_flush()


sys.exit(main("zero-code", flush))
