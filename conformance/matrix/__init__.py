"""`nox -s matrix`: which SDK releases link their client spans to Milvus's server spans,
out of the box and with this project's id-generator fix (README.md, "The SDK matrix").

The cells run the approaches whose approaches.toml has a [approaches.<name>.matrix] table;
plans.py reads those into cells, resolving their requests against the registries
(versions.py); cells.py prepares each cell's cached environment under .matrix/, by the
language's ecosystem, and runs the approach's client in it; table.py renders
reports/matrix.{json,md}; __main__.py is the command line."""
