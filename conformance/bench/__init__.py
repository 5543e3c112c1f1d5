"""`nox -s bench`: what tracing costs per approach (python -m conformance.bench)."""
