"""SDK set up in code: `python -m milvus_demo.sdk`. A TracerProvider with the OTLP exporter
(configured by OTEL_*), the gRPC client instrumentation, then the shared run."""

from __future__ import annotations

import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from w3c_level1_ids import W3CLevel1IdGenerator

from milvus_demo.run import main


def make_tracer_provider(id_generator=None) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create(),  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
        id_generator=id_generator or W3CLevel1IdGenerator(),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_*
    return provider


def setup(id_generator=None) -> TracerProvider:
    provider = make_tracer_provider(id_generator)
    trace.set_tracer_provider(provider)
    GrpcInstrumentorClient().instrument()  # before pymilvus opens its channel
    return provider


if __name__ == "__main__":
    sys.exit(main("sdk", setup().shutdown))
