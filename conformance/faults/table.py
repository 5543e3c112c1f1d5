"""reports/faults.md from the faults report (reports/faults.json). Pure: unit-tested."""

from __future__ import annotations

from conformance import tables
from conformance.tables import Table


def figures(cell: dict) -> str:
    return f"exit {cell['exit_status']}, {cell['wall_s']:.1f} s"


def shown(cell: dict | None) -> str:
    """One approach under one fault: its figures, what missed the bound, the first new stderr line."""
    if cell is None:
        return "not run"
    text = figures(cell)
    if cell["problems"]:
        text = "**missed**: " + "; ".join(cell["problems"]) + f" ({text})"
    if cell.get("first_new_stderr_line"):
        text += f" — `{cell['first_new_stderr_line'][:160]}`"
    return text


def markdown(report: dict) -> str:
    faults = report["faults"]
    bounds = Table("faults", ["fault", "what happens", "bound"], [[f"`{name}`", f["what"], f["expect"]] for name, f in faults.items()])
    outcomes = Table(
        "outcomes",
        ["approach", "normal", *(f"`{name}`" for name in faults)],
        [
            [approach, f"{result['normal']['wall_s']:.1f} s", *(shown(result["faults"].get(name)) for name in faults)]
            for approach, result in report["approaches"].items()
        ],
    )
    lines = [
        "# When things go wrong",
        "",
        f"Every approach under each fault, against the real stack ({report['generated_at']}).",
        "Cells: exit status and wall time, or what missed the bound.",
        "",
        tables.markdown(bounds),
        "",
        tables.markdown(outcomes),
    ]
    return "\n".join(lines) + "\n"
