"""One cell: one set of SDK versions, its cached environment under .matrix/<key>/, and
the approach's client run in it, out of the box and, where its manifest has a fix, with
the fix. How a cell is prepared is its language's ecosystem's (approaches.toml)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from conformance.approaches import Approach
from conformance.runner import launch, run

PREPARE_TIMEOUT_S = 900
CLIENT_TIMEOUT_S = 300
MAVEN_COPY = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"


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
    approach: str  # the approach id whose client runs, <language>/<approach>
    key: str  # folder name under .matrix/
    versions: dict[str, str]  # package -> version, as the table shows them
    fixable: bool  # whether this project has a fix for the language (its manifest's with_fix)
    error: str | None = None  # set when the cell cannot run: why, in one line
    results: dict[str, dict] = field(default_factory=dict)  # "out_of_the_box" / "with_fix" -> outcome
    pins: dict[str, str] = field(default_factory=dict)  # package -> the release installed; none: the folder's own
    manifest: Approach | None = None  # the approach, as its approaches.toml declares it
    settings: dict[str, str] = field(default_factory=dict)  # its switch's value; it shares the folder of the cell without

    def variants(self) -> list[str]:
        return ["out_of_the_box", "with_fix"] if self.fixable else ["out_of_the_box"]

    def prepare(self, folder: Path, approach: Approach) -> None:
        raise NotImplementedError

    def command(self, folder: Path, approach: Approach, fix: bool) -> tuple[list[str], Path, dict[str, str | None]]:
        """argv, cwd and the environment on top of the approach's settings (None removes one)."""
        raise NotImplementedError

    def run(self, approach: Approach) -> list[str]:
        return list(self.manifest.matrix.run or approach.run)

    def variant_env(self, fix: bool) -> dict[str, str | None]:
        """The manifest's settings for the variant; None unsets one."""
        variant = self.manifest.matrix.variants["with_fix" if fix else "out_of_the_box"]
        return {**self.settings, **variant["env"], **dict.fromkeys(variant["unset"])}

    def record_name(self, fix: bool) -> str:
        """The run record's file in the cell's folder, one per variant and switch value."""
        values = "".join("-" + "".join(c if c.isalnum() else "_" for c in value) for value in self.settings.values())
        return f"{'with_fix' if fix else 'out_of_the_box'}{values}.json"


@dataclass
class PipCell(Cell):
    """A virtualenv with the cell's releases and the approach's local packages (the folders
    its install names); the run's program is the virtualenv's."""

    def local_packages(self, source: Path) -> list[Path]:
        return [source / arg for arg in self.manifest.install if (source / arg).is_dir()]

    def prepare(self, folder: Path, approach: Approach) -> None:
        source = approach.folder
        pins = [f"{package}=={version}" for package, version in self.pins.items()]
        local = self.local_packages(source)
        # A local package is its modules and pyproject.toml; pip writes build/ and *.egg-info beside them.
        wanted = {"pins": pins, **{path.name: digest(*sorted(path.glob("*.py")), path / "pyproject.toml") for path in local}}
        stamp = folder / "installed.json"
        if fresh(stamp, wanted):
            return
        stamp.unlink(missing_ok=True)
        run_step([sys.executable, "-m", "venv", "--clear", str(folder / "venv")], folder, "python -m venv")
        pip = [str(folder / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run_step([*pip, *pins, *map(str, local)], folder, "pip install " + " ".join(pins))
        stamp.write_text(json.dumps(wanted))

    def command(self, folder, approach, fix):
        source = approach.folder
        program, *args = self.run(approach)
        env = {"PYTHONPATH": str(source), **self.variant_env(fix)}
        return [str(folder / "venv" / "bin" / program), *args], source, env


@dataclass
class MavenCell(Cell):
    """The cell's artifacts (group:artifact) downloaded into it, each in place of the jar of
    the same name in the approach's run; the rest is the main build's."""

    def jars(self, folder: Path) -> dict[str, Path]:
        return {coordinate: folder / f"{coordinate.partition(':')[2]}.jar" for coordinate in self.pins}

    def prepare(self, folder, approach):
        for coordinate, jar in self.jars(folder).items():
            if jar.exists():
                continue
            artifact = f"{coordinate}:{self.pins[coordinate]}"
            run_step(["mvn", "-B", "-q", MAVEN_COPY, f"-Dartifact={artifact}", f"-DoutputDirectory={folder}", "-Dmdep.stripVersion=true"], folder, f"mvn copy {artifact}")

    def command(self, folder, approach, fix):
        argv = self.run(approach)
        for jar in self.jars(folder).values():
            argv = [swap_jar(arg, jar) for arg in argv]
        return argv, approach.folder, self.variant_env(fix)


def swap_jar(arg: str, jar: Path) -> str:
    """`-option:build/x.jar` -> `-option:<jar>` when `jar` is named x.jar (a path after `:` or `=`)."""
    if not arg.endswith(jar.name):
        return arg
    path_start = max(arg.rfind(":"), arg.rfind("="), -1) + 1
    path = arg[path_start:]
    return arg[:path_start] + str(jar) if path == jar.name or path.endswith("/" + jar.name) else arg


@dataclass
class CopiedSourceCell(Cell):
    """A copy of the language folder whose dependencies are moved to the cell's releases; the
    sources are copied on every run, the install runs again only when it or the folder's
    manifests change."""

    manifests: ClassVar[tuple[str, ...]] = ()
    skip: ClassVar[tuple[str, ...]] = ()  # build outputs and dependencies: never copied

    def install_steps(self) -> list[list[str]]:
        raise NotImplementedError

    def build_steps(self) -> list[list[str]]:
        return []

    def prepare(self, folder, approach):
        source = approach.folder
        work = folder / "src"
        ignore = shutil.ignore_patterns(*self.manifests, *self.skip)
        shutil.copytree(source, work, ignore=ignore, dirs_exist_ok=True)
        install = self.install_steps()
        wanted = {"install": install, "manifests": digest(*(source / m for m in self.manifests))}
        stamp = folder / "installed.json"
        if not fresh(stamp, wanted):
            stamp.unlink(missing_ok=True)
            for manifest in self.manifests:
                shutil.copy2(source / manifest, work / manifest)
            for step in install:
                run_step(step, work, " ".join(step))
            stamp.write_text(json.dumps(wanted))
        for step in self.build_steps():
            run_step(step, work, " ".join(step))

    def command(self, folder, approach, fix):
        return self.run(approach), folder / "src", self.variant_env(fix)


@dataclass
class GoCell(CopiedSourceCell):
    """go get moves go.mod to the cell's releases; the approach's build runs in the copy."""

    manifests: ClassVar[tuple[str, ...]] = ("go.mod", "go.sum")
    skip: ClassVar[tuple[str, ...]] = ("bin",)

    def install_steps(self):
        return [["go", "get", *(f"{module}@{version}" for module, version in self.pins.items())]] if self.pins else []

    def build_steps(self):
        return [step.run for step in self.manifest.build]


@dataclass
class NpmCell(CopiedSourceCell):
    """npm ci, then npm install moves package.json and its lock to the cell's releases."""

    manifests: ClassVar[tuple[str, ...]] = ("package.json", "package-lock.json")
    skip: ClassVar[tuple[str, ...]] = ("node_modules",)

    def install_steps(self):
        ci = ["npm", "ci", "--no-audit", "--no-fund"]
        if not self.pins:
            return [ci]
        return [ci, ["npm", "install", "--no-audit", "--no-fund", *(f"{package}@{version}" for package, version in self.pins.items())]]


# ecosystem (approaches.toml) -> how its cells are prepared and run
CELLS: dict[str, type[Cell]] = {"pip": PipCell, "maven": MavenCell, "go": GoCell, "npm": NpmCell}


def run_client(cell: Cell, folder: Path, approach: Approach, fix: bool) -> tuple[Path, float]:
    """Runs the client once; returns its run record's path and the seconds it took."""
    argv, cwd, extra = cell.command(folder, approach, fix)
    record = folder / cell.record_name(fix)
    # Its own name: its own collection and service, beside the approach's normal runs.
    client = launch(approach, record, name=f"{approach.name}-matrix", command=argv, cwd=cwd, env=extra)
    outcome = run(client, CLIENT_TIMEOUT_S)
    if outcome.timed_out:
        raise CellError(f"the client did not finish in {CLIENT_TIMEOUT_S} s")
    if not record.exists():
        last = ([line for line in outcome.stderr if line.strip()] or ["no output"])[-1]
        raise CellError(f"the client wrote no run record (exit {outcome.exit_status}): {last.strip()[:300]}")
    return record, outcome.wall_s
