"""`nox -s matrix`: which SDK releases link their client spans to Milvus's server spans,
out of the box and with this project's id-generator fix (README.md, "The SDK matrix").

versions.py resolves what to try against the registries; cells.py prepares each cell's
cached environment under .matrix/ and runs one approach's client in it; table.py
renders reports/matrix.{json,md}; __main__.py is the command line."""

# The approach each language's cells run; the noxfile builds these and hands over their settings.
APPROACHES = ("python/sdk", "java/agent", "go/otelgrpc", "node/sdk")
