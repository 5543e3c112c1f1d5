"""One cell: one set of SDK versions, its cached environment under .matrix/<key>/, and
the approach's client run in it, out of the box and (Python, Java) with the fix."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from conformance.approaches import Approach
from conformance.runner import launch, run

PREPARE_TIMEOUT_S = 900
CLIENT_TIMEOUT_S = 300
PYTHON_CELL = Path(__file__).resolve().parent / "python_cell.py"


class CellError(Exception):
    """Preparing or running a cell failed; one line, shown in the cell."""


def run_step(argv: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=PREPARE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CellError(f"{what}: timed out after {PREPARE_TIMEOUT_S} s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        # pip and npm put the cause on an ERROR line; the last line is often a hint.
        cause = next((l for l in lines if l.startswith(("ERROR", "npm error code", "go: "))), lines[-1] if lines else "")
        raise CellError(f"{what} failed (exit {done.returncode}): {cause[:300]}")


def digest(*paths: Path) -> str:
    hashed = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
            hashed.update(file.read_bytes())
    return hashed.hexdigest()[:16]


def fresh(stamp: Path, wanted: dict) -> bool:
    return stamp.exists() and json.loads(stamp.read_text()) == wanted


@dataclass
class Cell:
    language: str
    approach: str  # the approach id whose client runs, e.g. python/sdk
    key: str  # folder name under .matrix/
    versions: dict[str, str]  # package -> version, as the table shows them
    fixable: bool  # whether this project has a fix for the language (Python, Java)
    error: str | None = None  # set when the cell cannot run: why, in one line
    results: dict[str, dict] = field(default_factory=dict)  # "out_of_the_box" / "with_fix" -> outcome

    def variants(self) -> list[str]:
        return ["out_of_the_box", "with_fix"] if self.fixable else ["out_of_the_box"]

    def prepare(self, folder: Path, approach: Approach) -> None:
        raise NotImplementedError

    def command(self, folder: Path, approach: Approach, fix: bool) -> tuple[list[str], Path, dict[str, str | None]]:
        """argv, cwd and the environment on top of the approach's settings (None removes one)."""
        raise NotImplementedError


@dataclass
class PythonCell(Cell):
    """A virtualenv with the pinned SDK, exporter, gRPC instrumentation and pymilvus."""

    def prepare(self, folder: Path, approach: Approach) -> None:
        source = approach.folder
        pins = [f"{package}=={version}" for package, version in self.versions.items()]
        wanted = {"pins": pins, "w3c-level1-ids": digest(source / "w3c-level1-ids" / "w3c_level1_ids.py", source / "w3c-level1-ids" / "pyproject.toml")}
        stamp = folder / "installed.json"
        if fresh(stamp, wanted):
            return
        stamp.unlink(missing_ok=True)
        run_step([sys.executable, "-m", "venv", "--clear", str(folder / "venv")], folder, "python -m venv")
        pip = [str(folder / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run_step([*pip, *pins, str(source / "w3c-level1-ids")], folder, "pip install " + " ".join(pins))
        stamp.write_text(json.dumps(wanted))

    def command(self, folder, approach, fix):
        source = approach.folder
        env = {"PYTHONPATH": str(source), "MATRIX_FIX": "1" if fix else "0"}
        return [str(folder / "venv" / "bin" / "python"), str(PYTHON_CELL)], source, env


@dataclass
class JavaAgentCell(Cell):
    """The agent jar of one release; the app and the w3c-level1-ids extension of the main build."""

    def jar(self, folder: Path) -> Path:
        return folder / "opentelemetry-javaagent.jar"

    def prepare(self, folder, approach):
        if self.jar(folder).exists():
            return
        artifact = f"io.opentelemetry.javaagent:opentelemetry-javaagent:{self.versions['opentelemetry-javaagent']}"
        copy = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"
        run_step(["mvn", "-B", "-q", copy, f"-Dartifact={artifact}", f"-DoutputDirectory={folder}", "-Dmdep.stripVersion=true"], folder, f"mvn copy {artifact}")

    def command(self, folder, approach, fix):
        argv = [f"-javaagent:{self.jar(folder)}" if arg.startswith("-javaagent:") else arg for arg in approach.run]
        # Out of the box = the agent without the extension that keeps flags at 01.
        return argv, approach.folder, {} if fix else {"OTEL_JAVAAGENT_EXTENSIONS": None}


@dataclass
class CopiedSourceCell(Cell):
    """A copy of the language folder whose dependencies are changed by `install`; the
    sources are copied on every run, the install runs again only when it or the
    folder's manifests change."""

    manifests: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()  # build outputs and dependencies: never copied
    install: list[list[str]] = field(default_factory=list)

    def prepare(self, folder, approach):
        source = approach.folder
        work = folder / "src"
        ignore = shutil.ignore_patterns(*self.manifests, *self.skip)
        shutil.copytree(source, work, ignore=ignore, dirs_exist_ok=True)
        wanted = {"install": self.install, "manifests": digest(*(source / m for m in self.manifests))}
        stamp = folder / "installed.json"
        if not fresh(stamp, wanted):
            stamp.unlink(missing_ok=True)
            for manifest in self.manifests:
                shutil.copy2(source / manifest, work / manifest)
            for step in self.install:
                run_step(step, work, " ".join(step))
            stamp.write_text(json.dumps(wanted))
        for step in self.build_steps():
            run_step(step, work, " ".join(step))

    def build_steps(self) -> list[list[str]]:
        return []

    def command(self, folder, approach, fix):
        return list(approach.run), folder / "src", {}


@dataclass
class GoCell(CopiedSourceCell):
    manifests: tuple[str, ...] = ("go.mod", "go.sum")
    skip: tuple[str, ...] = ("bin",)

    def build_steps(self):
        binary = self.approach.split("/")[1]
        return [["go", "build", "-o", f"bin/{binary}", f"./cmd/{binary}"]]


@dataclass
class NodeCell(CopiedSourceCell):
    manifests: tuple[str, ...] = ("package.json", "package-lock.json")
    skip: tuple[str, ...] = ("node_modules",)


def run_client(cell: Cell, folder: Path, approach: Approach, fix: bool) -> tuple[Path, float]:
    """Runs the client once; returns its run record's path and the seconds it took."""
    argv, cwd, extra = cell.command(folder, approach, fix)
    record = folder / f"{'with_fix' if fix else 'out_of_the_box'}.json"
    # Its own name: its own collection and service, beside the approach's normal runs.
    client = launch(approach, record, name=f"{approach.name}-matrix", command=argv, cwd=cwd, env=extra)
    outcome = run(client, CLIENT_TIMEOUT_S)
    if outcome.timed_out:
        raise CellError(f"the client did not finish in {CLIENT_TIMEOUT_S} s")
    if not record.exists():
        last = ([line for line in outcome.stderr if line.strip()] or ["no output"])[-1]
        raise CellError(f"the client wrote no run record (exit {outcome.exit_status}): {last.strip()[:300]}")
    return record, outcome.wall_s
