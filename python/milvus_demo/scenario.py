"""The contract's steps (conformance/SCENARIO.md) with pymilvus. Tracing here is only
the OpenTelemetry API: each step is a span; whatever SDK the approach set up records it."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from opentelemetry import trace
from pymilvus import DataType, MilvusClient, MilvusException, Status

from milvus_demo import Failure
from milvus_demo.harness import Harness

CONNECT_TIMEOUT_S = 5  # the contract: give up connecting within 10 s
# Every call's `timeout=`: without it pymilvus retries an UNAVAILABLE call 75 times (minutes);
# with it, it stops retrying after that long. Flush and load take ~4 s here; the contract
# wants a step to fail within 30 s of Milvus dying.
CALL_TIMEOUT_S = 15

# pymilvus logs every failed call and retry, some with a traceback; a failed run says
# what failed in one line of its own.
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Data:
    """The scenario's data, as conformance/scenario.json declares it."""

    collection: str
    id_field: str
    vector_field: str
    dimension: int
    rows: int
    vector_modulus: int
    index_type: str
    metric_type: str
    search_id: int
    top_k: int
    query_filter: str
    delete_filter: str
    consistency: str
    bench_consistency: str
    missing_collection: str

    @classmethod
    def load(cls, language: str, approach: str, path: Path) -> Data:
        scenario = json.loads(path.read_text())
        data = {key: value for key, value in scenario["data"].items() if not key.endswith("_rule")}
        collection = scenario["collection_prefix"] + f"{language}_{approach}".replace("-", "_")
        return cls(collection=collection, **data)

    def vector(self, row_id: int) -> list[float]:
        return [((row_id * self.dimension + j) % self.vector_modulus) / self.vector_modulus for j in range(self.dimension)]


class UnexpectedSuccess(Exception):
    """The deliberate failure did not fail: the run cannot show an error span."""


def one_line(error: Exception) -> str:
    message = error.message if isinstance(error, MilvusException) else str(error)
    return f"{type(error).__name__}: {message}".splitlines()[0]


def search(client: MilvusClient, data: Data, consistency: str) -> list:
    vectors = [data.vector(data.search_id)]
    return client.search(data.collection, vectors, limit=data.top_k, consistency_level=consistency, timeout=CALL_TIMEOUT_S)[0]


def query(client: MilvusClient, data: Data, consistency: str) -> list:
    return client.query(
        data.collection,
        filter=data.query_filter,
        output_fields=[data.id_field],
        consistency_level=consistency,
        timeout=CALL_TIMEOUT_S,
    )


def unauthenticated(error: BaseException) -> bool:
    """Whether Milvus refused the call's credentials. pymilvus 3.0 says only "Fail connecting
    to server" when its Connect RPC fails, whatever the reason; the grpc error it raises that
    from, Milvus's answer, holds the status code."""
    seen = set()
    while error is not None and id(error) not in seen:  # pymilvus raises some errors `from` themselves
        if isinstance(error, grpc.RpcError) and callable(getattr(error, "code", None)):
            return error.code() == grpc.StatusCode.UNAUTHENTICATED
        seen.add(id(error))
        error = error.__cause__
    return False


def credentials_refused(token: str) -> Failure:
    """The one line for a MILVUS_TOKEN that Milvus refused (or its absence): never the token."""
    if token:
        return Failure("Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token")
    return Failure("Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token")


def connect(uri: str, token: str) -> MilvusClient:
    try:
        return MilvusClient(uri=uri, token=token, timeout=CONNECT_TIMEOUT_S)
    except MilvusException as error:
        if error.code != Status.CONNECT_FAILED:
            raise
        if unauthenticated(error):
            raise credentials_refused(token) from None  # the line says it all; gRPC's text stays off the span
        reason = f"cannot reach Milvus at MILVUS_URI={uri}: {error.message}"
        raise Failure(f"{reason}; is it running? nox -s up starts the stack") from error


def run(tracer: trace.Tracer, uri: str, data: Data, harness: Harness, token: str = "") -> tuple | None:
    """The contract's steps; with harness.bench_repeat > 0 also the hot path, whose figures it
    returns. `token` ("user:password", "" for none) goes to pymilvus only. A step that fails
    raises Failure naming it; after each step, the harness may pause the run."""
    bench = None

    @contextmanager
    def step(name: str):
        try:
            with tracer.start_as_current_span(name):  # records the exception and ERROR on the way out
                yield
        except Failure:
            raise
        except Exception as error:
            raise Failure(f"step {name} failed: {one_line(error)}") from error
        harness.after_step(name)

    with step("connect"):
        client = connect(uri, token)
    try:
        with step("has_collection"):
            exists = client.has_collection(data.collection, timeout=CALL_TIMEOUT_S)
        if exists:
            with step("drop_existing"):
                client.drop_collection(data.collection, timeout=CALL_TIMEOUT_S)
        with step("create_collection"):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field(data.id_field, DataType.INT64, is_primary=True)
            schema.add_field(data.vector_field, DataType.FLOAT_VECTOR, dim=data.dimension)
            client.create_collection(data.collection, schema=schema, timeout=CALL_TIMEOUT_S)
        with step("insert"):
            rows = [{data.id_field: i, data.vector_field: data.vector(i)} for i in range(data.rows)]
            client.insert(data.collection, rows, timeout=CALL_TIMEOUT_S)
        with step("flush"):
            client.flush(data.collection, timeout=CALL_TIMEOUT_S)
        with step("create_index"):
            index_params = MilvusClient.prepare_index_params()
            index_params.add_index(data.vector_field, index_type=data.index_type, metric_type=data.metric_type)
            client.create_index(data.collection, index_params, timeout=CALL_TIMEOUT_S)
        with step("load"):
            client.load_collection(data.collection, timeout=CALL_TIMEOUT_S)
        with step("search"):
            hits = search(client, data, data.consistency)
            if len(hits) != data.top_k:
                raise RuntimeError(f"search returned {len(hits)} hits, expected {data.top_k}")
        with step("query"):
            query(client, data, data.consistency)
        if harness.bench_repeat > 0:
            with step("bench"):
                bench = harness.hot_path(
                    {
                        "Search": lambda: search(client, data, data.bench_consistency),
                        "Query": lambda: query(client, data, data.bench_consistency),
                    }
                )
        with step("delete"):
            client.delete(data.collection, filter=data.delete_filter, timeout=CALL_TIMEOUT_S)
        try:
            with step("expected_failure"):
                client.describe_collection(data.missing_collection, timeout=CALL_TIMEOUT_S)
            raise UnexpectedSuccess(f"describing {data.missing_collection!r} succeeded; the scenario expects an error")
        except Failure as failure:
            if not isinstance(failure.__cause__, MilvusException):
                raise
            print(f"expected failure caught: {failure.__cause__.message}")
        with step("drop_collection"):
            client.drop_collection(data.collection, timeout=CALL_TIMEOUT_S)
    finally:
        with step("close"):
            client.close()
    return bench
