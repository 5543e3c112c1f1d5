"""Facts a bench report names: the machine it ran on and the versions it measured."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

from conformance import ecosystems
from conformance.approaches import languages, load_all
from stack.addresses import MILVUS_VENV

ROOT = Path(__file__).resolve().parents[2]


def machine() -> dict:
    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory_gb = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    return {
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }


def _output(*command: str) -> str:
    try:
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
        return (result.stdout + result.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def versions() -> dict:
    """Milvus's and Jaeger's, then each language's runtime and packages as its folder's
    [versions] names them (approaches.toml), read by its ecosystem."""
    milvus = sorted(p.name for p in MILVUS_VENV.glob("lib/python*/site-packages/milvus-*.dist-info"))
    found = {
        "milvus": milvus[0].removeprefix("milvus-").removesuffix(".dist-info") if milvus else "?",
        "jaeger": ecosystems.go_mod(ROOT / "stack" / "jaeger", "github.com/jaegertracing/jaeger"),
    }
    approaches = load_all()
    for language in languages(approaches):
        approach = next(a for a in approaches if a.language == language)
        if approach.versions:
            packages = approach.versions.packages.items()
            found[language] = {
                "runtime": _output(*approach.versions.runtime),
                **{shown: ecosystems.installed(approach.ecosystem, approach.folder, name) for shown, name in packages},
            }
    return found
