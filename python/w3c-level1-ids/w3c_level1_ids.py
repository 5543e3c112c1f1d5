"""An id generator for OpenTelemetry Python that keeps `traceparent ...-01`.

Since 1.42 the SDK announces its random trace ids with the W3C level-2 flag (`-03`);
Milvus up to 2.6 (otel-go < 1.42) drops such a header and starts a new trace. The ids
stay random; only the announcement goes. Zero-code setups select it by name:
OTEL_PYTHON_ID_GENERATOR=w3c_level1 (the entry point below)."""

from opentelemetry.sdk.trace.id_generator import RandomIdGenerator


class W3CLevel1IdGenerator(RandomIdGenerator):
    def is_trace_id_random(self) -> bool:
        return False
