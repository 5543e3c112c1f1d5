"""reports/matrix.json and matrix.md from the cells' outcomes. Pure: unit-tested."""

from __future__ import annotations

from conformance import tables
from conformance.tables import Table

VARIANTS = {"out_of_the_box": "out of the box", "with_fix": "with the fix"}


def outcome(flags: str | None, linked: int, total: int, reason: str, conventions: dict | None = None) -> dict:
    """One run of a cell; conventions: the classifier's reading of its RPC client spans (conformance/semconv)."""
    found = {"flags": flags, "linked": linked, "total": total, "server_links": reason}
    if conventions:
        found.update(generation=conventions["generation"], deprecated=conventions["deprecated"], method_form=conventions["method_form"])
    return found


def settings(values: dict[str, str]) -> list[str]:
    return [f"{name}={value}" for name, value in values.items()]


def generation(result: dict | None) -> str:
    """The RPC conventions' generation of a run's client spans, with its method's form."""
    if not result or "generation" not in result:
        return "—"
    form = f", rpc.method {result['method_form']}" if result.get("method_form") else ""
    return result["generation"] + form


def shown(result: dict | None, fixable: bool) -> tuple[str, str]:
    """(flags, linked) for one variant of a cell."""
    if result is None:
        return ("—", "not needed" if not fixable else "—")
    if "error" in result:
        return ("—", result["error"])
    linked = f"{result['linked']} of {result['total']}"
    mark = "✅" if result["total"] and result["linked"] == result["total"] else "❌"
    return (f"`{result['flags']}`", f"{mark} {linked}")


def row(cell: dict) -> list[str]:
    versions = ", ".join([*(f"{package} {version}" for package, version in cell["versions"].items()), *settings(cell.get("settings", {}))])
    if cell.get("error"):
        return [cell["approach"], versions, f"**{cell['error']}**", "", "", "", ""]
    cells = []
    for variant in VARIANTS:
        cells += shown(cell["results"].get(variant), cell["fixable"])
    return [cell["approach"], versions, *cells, generation(cell["results"].get("out_of_the_box"))]


def markdown(report: dict) -> str:
    header = ["approach", "versions", "flags sent", "linked to Milvus", "flags with the fix", "linked with the fix", "RPC generation"]
    lines = [
        "# Which SDK releases link to Milvus's server spans (`nox -s matrix`)",
        "",
        f"Run {report['started_at']}, {report['duration_s']:.0f} s. \"linked\": client RPC spans of the scenario "
        "with Milvus's SERVER span as their child (conformance `server_links`). \"with the fix\": this project's "
        "id generator that does not announce random trace ids (Python, Java); Go and Node.js need none. "
        f"\"RPC generation\": the client's RPC spans read against semantic conventions {report['semconv_release']} "
        "(old: rpc.system; stable: rpc.system.name; both); a setting after the versions is the instrumentation's switch.",
        "",
        tables.markdown(Table("cells", header, [row(cell) for cell in report["cells"]])),
    ]
    return "\n".join(lines) + "\n"
