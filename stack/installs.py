"""The embedded stack's builds, each redone only when what it is made from changed:
Milvus from PyPI into a venv (milvus-requirements.txt), Jaeger with Go (jaeger/go.mod)."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from stack.addresses import JAEGER_BIN, MILVUS_VENV, STACK_DIR, StackError
from stack.processes import run_step

JAEGER_MODULE = STACK_DIR / "jaeger"
INSTALL_TIMEOUT_S = 900
JAEGER_BUILD_TIMEOUT_S = 1800


def ensure_milvus_installed() -> Path:
    """The venv's Python, which runs milvus_standalone.py and milvus_auth.py."""
    python = MILVUS_VENV / "bin" / "python"
    requirements = STACK_DIR / "milvus-requirements.txt"
    stamp = MILVUS_VENV / "requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    shutil.rmtree(MILVUS_VENV, ignore_errors=True)
    run_step("creating the Milvus venv", [sys.executable, "-m", "venv", MILVUS_VENV], 120)
    run_step(
        "installing Milvus from PyPI",
        [python, "-m", "pip", "install", "-q", "-r", requirements],
        INSTALL_TIMEOUT_S,
    )
    stamp.write_text(digest)
    return python


def ensure_jaeger_built() -> Path:
    sources = [JAEGER_MODULE / "go.mod", JAEGER_MODULE / "go.sum"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    stamp = JAEGER_BIN.with_suffix(".sha256")
    if JAEGER_BIN.exists() and stamp.exists() and stamp.read_text() == digest:
        return JAEGER_BIN
    go = shutil.which("go")
    if not go:
        raise StackError("the embedded stack builds Jaeger with Go, but `go` is not on PATH; install Go 1.24+")
    run_step(
        "building Jaeger from the Go module proxy (first time only)",
        [go, "build", "-o", JAEGER_BIN, "github.com/jaegertracing/jaeger/cmd/jaeger"],
        JAEGER_BUILD_TIMEOUT_S,
        cwd=JAEGER_MODULE,
    )
    stamp.write_text(digest)
    return JAEGER_BIN
