"""Spans read against the pinned release's rules (rules.json): each attribute's class, the
generation of the RPC conventions the spans follow, their name and kind against the rule,
and the required and recommended attributes they lack. Pure: reads rules.json only."""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

from conformance.spans import Span

RULES = Path(__file__).with_name("rules.json")
NOT_IN = "not in the conventions"
OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"  # the specification's switch between generations
# Jaeger turns span kind, scope and status into tags: they are not attributes the instrumentation chose.
JAEGER_FIELDS = {"span.kind", "otel.scope.name", "otel.scope.version", "otel.status_code", "otel.status_description", "error"}
# What a dashboard groups by: a key has the role of the first name or namespace that matches it,
# or else one of its replacements (rpc.grpc.status_code -> rpc.status_code: status).
ROLES = {
    "method": ("rpc.method", "rpc.method_original"),
    "service": ("rpc.service",),
    "status": ("rpc.status_code",),
    "network": ("server.", "client.", "network.", "net."),
}


@functools.cache
def load(path: Path = RULES) -> dict:
    return json.loads(path.read_text())


def definition(rules: dict, key: str) -> dict | None:
    """The key's attribute, or the template (`rpc.request.header.<key>`) it fills in."""
    known = rules["attributes"]
    if key in known:
        return known[key]
    templates = [name for name in known if name.endswith(".") and key.startswith(name)]
    return known[max(templates, key=len)] if templates else None


def attribute(rules: dict, key: str) -> dict:
    """{"class": stable | experimental | deprecated | not in the conventions}, with a
    deprecated attribute's replacements and the release's words on it."""
    found = definition(rules, key)
    if found is None:
        return {"class": NOT_IN}
    if "deprecated" in found:
        return {"class": "deprecated", "replaced_by": found["replaced_by"], "note": found["deprecated"]}
    return {"class": found["stability"]}


def role(rules: dict, key: str) -> str | None:
    for name in [key, *attribute(rules, key).get("replaced_by", [])]:
        for found, names in ROLES.items():
            if any(name == n or (n.endswith(".") and name.startswith(n)) for n in names):
                return found
    return None


def status_code(span: Span, rules: dict | None = None) -> str | None:
    """`key=value` of the span's status code, in whichever generation it carries one."""
    rules = rules or load()
    return next((f"{key}={value}" for key, value in span.tags.items() if role(rules, key) == "status"), None)


def generation(rules: dict, keys: set[str]) -> str:
    """old, stable or both: which RPC system attribute the spans carry, the release's
    (rpc.system.name) or the one it replaces (rpc.system); none without either."""
    stable = rules["system"]["attribute"]
    old = {name for name, entry in rules["attributes"].items() if stable in entry.get("replaced_by", [])}
    found = [name for name, present in (("old", old & keys), ("stable", stable in keys)) if present]
    return "both" if len(found) == 2 else (found[0] if found else "none")


def expected_name(span: Span) -> str | None:
    """The name the rule gives the span: its call's fully qualified method."""
    call = span.rpc_call()
    return f"{call[0]}/{call[1]}" if call and call[0] else None


def naming_scheme(span: Span) -> str:
    """The span name with its call's service and method replaced by placeholders."""
    name, (service, method) = span.name, span.rpc_call() or (None, None)
    if method and name.endswith(("/" + method, "." + method)):
        name = name[: -len(method)] + "{rpc.method}"
    name = name.replace(service, "{rpc.service}", 1) if service else name
    return name + (" (no rpc.* attributes)" if span.rpc_from_name else "")


def method_form(spans: list[Span]) -> str | None:
    values = {span.tags["rpc.method"] for span in spans if "rpc.method" in span.tags}
    if not values:
        return None
    return "fully qualified" if all("/" in value for value in values) else "bare"


def _present(name: str, keys: set[str]) -> bool:
    return name in keys or (name.endswith(".") and any(key.startswith(name) for key in keys))


def classify(spans: list[Span], side: str = "client", rules: dict | None = None) -> dict:
    """One approach's RPC spans of one side (client, or Milvus's server) read against the rules."""
    rules = rules or load()
    span_rules = rules["spans"][side]
    counts = Counter(key for span in spans for key in span.tags if key not in JAEGER_FIELDS)
    keys = set(counts)
    classes = {key: {**attribute(rules, key), "role": role(rules, key), "spans": counts[key]} for key in sorted(keys)}
    off = [span for span in spans if span.name != expected_name(span)]
    return {
        "release": rules["release"],
        "rule": span_rules["id"],
        "spans": len(spans),
        "attributes": classes,
        "generation": generation(rules, keys),
        "method_form": method_form(spans),
        "span_name": {
            "rule": rules["span_name"]["rule"],
            "forms": [form for form, _ in Counter(map(naming_scheme, spans)).most_common()],
            "following": len(spans) - len(off),
            "example_off": {"name": off[0].name, "expected": expected_name(off[0])} if off else None,
        },
        "span_kind": {"expected": span_rules["kind"], "seen": sorted({span.kind for span in spans})},
        "missing": {level: [n for n in span_rules[level] if not _present(n, keys)] for level in ("required", "recommended")},
        "deprecated": {key: c["replaced_by"] for key, c in classes.items() if c["class"] == "deprecated"},
    }
