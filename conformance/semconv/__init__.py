"""The RPC semantic conventions of one pinned release, as data (rules.json), and a classifier
that reads spans against them: what a dashboard built on that release will find.

generate.py writes rules.json from the release's published attribute definitions
(`python -m conformance.semconv.generate`); classify.py reads only rules.json, so tests and
reports need no network."""
