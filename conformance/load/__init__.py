"""`nox -s load`: tracing under concurrency, per approach (README.md here)."""
