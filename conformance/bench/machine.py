"""Facts a bench report names: the machine it ran on and the versions it measured."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import subprocess
from pathlib import Path

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


def _go_mod(path: Path, module: str) -> str:
    found = re.search(rf"^\s*{re.escape(module)} (v\S+)", path.read_text(), re.MULTILINE) if path.exists() else None
    return found.group(1) if found else "?"


def _npm(package: str) -> str:
    try:
        return json.loads((ROOT / "nodejs" / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def _pypi(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _pom(property_name: str) -> str:
    found = re.search(rf"<{property_name}>([^<]+)<", (ROOT / "java" / "pom.xml").read_text())
    return found.group(1) if found else "?"


def versions() -> dict:
    milvus = sorted(p.name for p in MILVUS_VENV.glob("lib/python*/site-packages/milvus-*.dist-info"))
    go_mod = ROOT / "go" / "go.mod"
    return {
        "milvus": milvus[0].removeprefix("milvus-").removesuffix(".dist-info") if milvus else "?",
        "jaeger": _go_mod(ROOT / "stack" / "jaeger" / "go.mod", "github.com/jaegertracing/jaeger"),
        "python": {
            "runtime": platform.python_version(),
            **{
                p: _pypi(p)
                for p in (
                    "pymilvus",
                    "grpcio",
                    "opentelemetry-sdk",
                    "opentelemetry-instrumentation-grpc",
                    "opentelemetry-exporter-otlp-proto-grpc",
                )
            },
        },
        "java": {
            "runtime": _output("java", "-version"),
            "opentelemetry-javaagent": _pom("otel-instrumentation.version"),
            "milvus-sdk-java": _pom("milvus-sdk.version"),
        },
        "go": {
            "runtime": _output("go", "version"),
            **{
                m.rsplit("/", 1)[-1] if "otel" in m else m: _go_mod(go_mod, m)
                for m in (
                    "github.com/milvus-io/milvus/client/v2",
                    "go.opentelemetry.io/otel/sdk",
                    "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
                    "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc",
                )
            },
        },
        "node": {
            "runtime": _output("node", "--version"),
            **{
                p: _npm(p)
                for p in (
                    "@zilliz/milvus2-sdk-node",
                    "@grpc/grpc-js",
                    "@opentelemetry/auto-instrumentations-node",
                    "@opentelemetry/sdk-node",
                    "@opentelemetry/instrumentation-grpc",
                )
            },
        },
    }


