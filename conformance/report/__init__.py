"""The conformance report: the check matrix and what differs between the approaches'
traces, as reports/conformance.json, .md and a self-contained .html, with the last
`nox -s faults` (reports/faults.json), `nox -s sampling` (reports/sampling.json) and
`nox -s load` (reports/load.json and its pictures) on the page when there are.

model.py builds the JSON, views.py and dashboard.py (what the semantic-conventions classifier,
conformance/semconv, says) the tables the Markdown (markdown.py) and the HTML (html.py,
waterfall.py, page.css) share. Everything but write() is pure, so it is
unit-tested on the recorded traces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from conformance.approaches import Approach
from conformance.report import html, markdown, model
from conformance.runs import Run


@dataclass
class Results:
    """What the suite collects for the report: outcome and reason per approach and check, and each approach's run."""

    rows: dict[str, dict[str, dict]] = field(default_factory=dict)
    runs: dict[str, Run | None] = field(default_factory=dict)

    def add(self, approach: Approach, check: str, outcome: str, reason: str) -> None:
        self.rows.setdefault(approach.id, {})[check] = {"outcome": outcome, "reason": reason}

    def add_run(self, approach: Approach, run: Run | None) -> None:
        self.runs[approach.id] = run


def summary(rows: dict[str, dict[str, dict]]) -> list[str]:
    """One line per approach for the terminal: passed, not run, or the checks it failed."""
    lines = []
    for approach, checks in rows.items():
        outcomes = [c["outcome"] for c in checks.values()]
        if "not run" in outcomes:
            verdict = "not run"
        elif all(o == "passed" for o in outcomes):
            verdict = f"passed ({len(outcomes)} checks)"
        else:
            failed = [name for name, c in checks.items() if c["outcome"] == "failed"]
            verdict = f"FAILED: {', '.join(failed)}"
        lines.append(f"{approach:20} {verdict}")
    return lines


def write(
    directory: Path, results: dict, runs: dict[str, Run | None], approaches: list[Approach], scenario: dict, jaeger_url: str
) -> list[Path]:
    """Writes conformance.json, .md and .html; returns their paths."""
    report = model.build(results, runs, approaches, scenario, jaeger_url)
    faults_file = directory / "faults.json"
    faults = json.loads(faults_file.read_text()) if faults_file.exists() else None
    sampling_file = directory / "sampling.json"
    sampling = json.loads(sampling_file.read_text()) if sampling_file.exists() else None
    load_file = directory / "load.json"
    load = json.loads(load_file.read_text()) if load_file.exists() else None
    load_pictures = {name: (directory / name).read_bytes() for name in (load or {}).get("pictures", []) if (directory / name).exists()}
    outputs = {
        "conformance.json": json.dumps(report, indent=2) + "\n",
        "conformance.md": markdown.render(report, scenario),
        "conformance.html": html.render(report, runs, scenario, faults, sampling, load, load_pictures),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (directory / name).write_text(text)
    return [directory / name for name in outputs]
