"""The report's semantic-conventions tables, from the classifier's output in its JSON
(model.py, conformance/semconv): what a dashboard built on the pinned release will find per
approach, and each RPC span attribute's class. Pure."""

from __future__ import annotations

from conformance.semconv.classify import OPT_IN
from conformance.tables import Table

MILVUS = "Milvus (its own SERVER spans)"
COLUMNS = ["span name", "method", "service", "status", "network", "generation", "deprecated → replacement"]


def _keys(semconv: dict, role: str) -> str:
    keys = [key for key, a in semconv["attributes"].items() if a["role"] == role]
    return ", ".join(keys) or "—"


def _name(semconv: dict) -> str:
    """The name's form, ✓ when every span's name is the rule's, else ✗."""
    name = semconv["span_name"]
    if not semconv["spans"]:
        return "—"
    forms = " | ".join(name["forms"])
    if name["example_off"] is None:
        return f"{forms} ✓"
    return f"{forms} ✗" + (f" ({name['following']} of {semconv['spans']} follow)" if name["following"] else "")


def _method(semconv: dict) -> str:
    keys = _keys(semconv, "method")
    return f"{keys} ({semconv['method_form']})" if semconv["method_form"] else keys


def _generation(semconv: dict) -> str:
    if semconv["generation"] == "none":
        return "none: the call is only in the span name"
    return semconv["generation"]


def _deprecated(semconv: dict) -> str:
    return "; ".join(f"{key} → {' / '.join(new) or 'nothing'}" for key, new in semconv["deprecated"].items()) or "none"


def row(label: str, semconv: dict) -> list[str]:
    """One dashboard row: how a set of RPC spans reads against the release."""
    return [
        label,
        _name(semconv),
        _method(semconv),
        _keys(semconv, "service"),
        _keys(semconv, "status"),
        _keys(semconv, "network"),
        _generation(semconv),
        _deprecated(semconv),
    ]


def label(report: dict, approach: str) -> str:
    opt_in = report["about"][approach].get("semconv_opt_in")
    return f"{approach} ({OPT_IN}={opt_in})" if opt_in else approach


def dashboard_table(report: dict) -> Table:
    found = {approach: d["semconv"] for approach, d in report["differences"].items() if d}
    rows = [row(label(report, approach), semconv["client"]) for approach, semconv in found.items()]
    server = next((semconv["server"] for semconv in found.values() if semconv["server"]["spans"]), None)
    if server:
        rows.append(row(MILVUS, server))
    return Table(
        "What your dashboards will see",
        ["approach", *COLUMNS],
        rows,
        note=f"Each approach's gRPC CLIENT spans read against semantic conventions {report['semconv_release']} "
        "(conformance/semconv/rules.json): the span name's form, ✓ when it is the rule's {rpc.method} "
        "(service/Method), the attributes a query groups by, "
        "the generation (old: rpc.system; stable: rpc.system.name; both) and what the release deprecates.",
    )


def _cell(attribute: dict | None) -> str:
    if attribute is None:
        return ""
    if attribute["class"] == "deprecated":
        return f"deprecated → {' / '.join(attribute['replaced_by']) or 'nothing'}"
    return attribute["class"]


def attributes_table(report: dict) -> Table:
    found = {approach: d["semconv"]["client"]["attributes"] for approach, d in report["differences"].items() if d}
    keys = sorted({key for attributes in found.values() for key in attributes})
    return Table(
        f"RPC span attributes against semantic conventions {report['semconv_release']}",
        ["attribute", *report["differences"]],
        [[key, *(_cell(found.get(approach, {}).get(key)) for approach in report["differences"])] for key in keys],
        note="stable, experimental, deprecated (→ its replacement) or not in the conventions; empty: the approach does not set it.",
    )
