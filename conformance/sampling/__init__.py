"""`nox -s sampling`: who decides whether a Milvus call is traced, and does Milvus follow.
Head sampling per approach with each SDK's standard OTEL_TRACES_SAMPLER(_ARG), tail sampling
in a second Jaeger pipeline (STACK_TAIL_SAMPLING), and Milvus's log lines of each trace."""
