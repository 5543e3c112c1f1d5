"""The scenario contract (conformance/SCENARIO.md) with pymilvus, traced by the
OpenTelemetry Python SDK and its gRPC client instrumentation.

Settings: MILVUS_URI and the standard OTEL_* variables; DEMO_RUN_RECORD names
the run record file; DEMO_BENCH_REPEAT=N adds the benchmark's hot path (nox -s bench).
OTEL_SDK_DISABLED=true is the untraced baseline: the SDK then hands out no-op tracers.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
import time
import uuid

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Status, StatusCode
from pymilvus import DataType, MilvusClient, MilvusException

LANGUAGE = "python"
COLLECTION = f"otel_demo_{LANGUAGE}"
MISSING_COLLECTION = "otel_demo_does_not_exist"
DIM = 8
ROWS = 100
TOP_K = 5
DELETE_IDS = [0, 1, 2, 3, 4]
BENCH_CONSISTENCY = "Bounded"  # Strong waits for Milvus's next time tick (~200 ms) on every call


class W3CLevel1IdGenerator(RandomIdGenerator):
    """Random ids, but not announced as such: OTel Python then sends `traceparent ...-01`
    instead of the W3C level-2 `-03`, which Milvus 2.3's propagator rejects (no link)."""

    def is_trace_id_random(self) -> bool:
        return False


def make_tracer_provider(id_generator=None) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create(),  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
        id_generator=id_generator or W3CLevel1IdGenerator(),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_*
    return provider


def vector(row_id: int) -> list[float]:
    return [((row_id * DIM + j) % 97) / 97.0 for j in range(DIM)]


def search(client: MilvusClient, consistency: str = "Strong") -> list:
    return client.search(COLLECTION, [vector(0)], limit=TOP_K, consistency_level=consistency)[0]


def query(client: MilvusClient, consistency: str = "Strong") -> list:
    return client.query(COLLECTION, filter="id in [10, 11, 12]", output_fields=["id"], consistency_level=consistency)


def hot_path(client: MilvusClient, repeat: int) -> tuple[dict[str, list[float]], float]:
    """Search and query, `repeat` times each: the client-side latency of every call, in ms,
    and the CPU time the whole process (exporter thread included) spent meanwhile, in ms."""
    latencies: dict[str, list[float]] = {"Search": [], "Query": []}
    cpu_started = time.process_time()
    for _ in range(repeat):
        for rpc, call in (("Search", search), ("Query", query)):
            started = time.perf_counter()
            call(client, BENCH_CONSISTENCY)
            latencies[rpc].append(round((time.perf_counter() - started) * 1000, 3))
    return latencies, round((time.process_time() - cpu_started) * 1000, 1)


def run_scenario(tracer: trace.Tracer, uri: str, bench_repeat: int = 0) -> tuple | None:
    """The contract's steps; with bench_repeat > 0 also the hot path, whose figures it returns."""
    bench = None

    def step(name: str):
        return tracer.start_as_current_span(name)

    with step("connect"):
        client = MilvusClient(uri=uri)
    try:
        with step("has_collection"):
            exists = client.has_collection(COLLECTION)
        if exists:
            with step("drop_existing"):
                client.drop_collection(COLLECTION)
        with step("create_collection"):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
            client.create_collection(COLLECTION, schema=schema)
        with step("insert"):
            client.insert(COLLECTION, [{"id": i, "vector": vector(i)} for i in range(ROWS)])
        with step("flush"):
            client.flush(COLLECTION)
        with step("create_index"):
            index_params = MilvusClient.prepare_index_params()
            index_params.add_index("vector", index_type="FLAT", metric_type="L2")
            client.create_index(COLLECTION, index_params)
        with step("load"):
            client.load_collection(COLLECTION)
        with step("search"):
            hits = search(client)
            if len(hits) != TOP_K:
                raise RuntimeError(f"search returned {len(hits)} hits, expected {TOP_K}")
        with step("query"):
            query(client)
        if bench_repeat > 0:
            with step("bench"):
                bench = hot_path(client, bench_repeat)
        with step("delete"):
            client.delete(COLLECTION, filter=f"id in {DELETE_IDS}")
        pymilvus_log = logging.getLogger("pymilvus")
        log_level = pymilvus_log.level
        pymilvus_log.setLevel(logging.CRITICAL)  # pymilvus logs every failed call with a traceback
        try:
            # The span records the exception and ERROR status as it leaves the block.
            with step("expected_failure"):
                client.describe_collection(MISSING_COLLECTION)
        except MilvusException as error:
            print(f"expected failure caught: {error.message}")
        finally:
            pymilvus_log.setLevel(log_level)
        with step("drop_collection"):
            client.drop_collection(COLLECTION)
    finally:
        with step("close"):
            client.close()
    return bench


def main() -> int:
    provider = make_tracer_provider()
    trace.set_tracer_provider(provider)
    GrpcInstrumentorClient().instrument()  # before pymilvus opens its channel
    tracer = trace.get_tracer("milvus-otel-demo")

    record = {
        "language": LANGUAGE,
        "service_name": provider.resource.attributes.get("service.name"),
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
            bench = run_scenario(
                tracer, os.environ.get("MILVUS_URI", "http://127.0.0.1:19530"), int(os.environ.get("DEMO_BENCH_REPEAT") or 0)
            )
            if bench:
                record["bench"], record["bench_cpu_ms"] = bench
        except Exception as error:  # the run record must say what failed, whatever it was
            root.record_exception(error)
            root.set_status(Status(StatusCode.ERROR, str(error)))
            record.update(exit_status=1, error=f"{type(error).__name__}: {error}".splitlines()[0])
    record["duration_s"] = round(time.monotonic() - started, 3)
    provider.shutdown()  # flushes the batch processor

    line = json.dumps(record)
    if os.environ.get("DEMO_RUN_RECORD"):
        with open(os.environ["DEMO_RUN_RECORD"], "w", encoding="utf-8") as out:
            out.write(line + "\n")
    print(line)
    if record["error"]:
        print(f"milvus-otel-demo failed: {record['error']}", file=sys.stderr)
    return record["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
