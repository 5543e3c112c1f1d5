"""Where the project's runs and reports go: the one place that reads DEMO_RUNS_DIR and
DEMO_REPORTS_DIR (README.md, "Settings"), for the noxfile, the suite and the tools."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILE = ROOT / "conformance" / "scenario.json"
RUNS_DIR = Path(os.environ.get("DEMO_RUNS_DIR", ROOT / ".runs"))  # run records; the tools' own under it
REPORTS_DIR = Path(os.environ.get("DEMO_REPORTS_DIR", ROOT / "reports"))
