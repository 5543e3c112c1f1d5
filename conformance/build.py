"""What the noxfile's sessions do before a client runs: build and install the approaches
(each skipped while nothing it names has changed), pin the Python default (nox -s lock),
and name the known approaches when nox finds no session of that name. A nox session is
passed in: its install, run and log are nox's."""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import time
from pathlib import Path

from conformance.approaches import Approach, BuildStep, ManifestError, languages, select

BUILD_TIMEOUT_S = 1800


def require(session, *tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        session.error(f"`nox -s {session.name}` needs {' and '.join(missing)} on PATH; install it and retry")


def install(session, approach: Approach) -> None:
    """pip install into the session's virtualenv, skipped while nothing it names has changed."""
    stamp = Path(session.virtualenv.location) / "approach-installed.json"
    local = [arg for arg in approach.install if (approach.folder / arg).exists()]
    # A local package is its pyproject.toml and modules; pip writes build/ and *.egg-info beside them.
    step = BuildStep(
        run=approach.install,
        inputs=[i for arg in local for i in ([f"{arg}/pyproject.toml", f"{arg}/*.py"] if (approach.folder / arg).is_dir() else [arg])],
    )
    if stamp.exists() and json.loads(stamp.read_text()) == approach.install and step.is_fresh(approach.folder, [stamp]):
        session.log(f"up to date: pip install {' '.join(approach.install)}")
        return
    session.install(*approach.install)
    stamp.write_text(json.dumps(approach.install))


def build(session, approach: Approach) -> float:
    """Install and build what the approach declares; returns the seconds it took."""
    require(session, *approach.requires)
    started = time.monotonic()
    with session.chdir(approach.folder):
        if approach.install:
            install(session, approach)
        for step in approach.build:
            if step.is_fresh(approach.folder):
                session.log(f"up to date: {' '.join(step.run)}")
                continue
            session.run("timeout", str(BUILD_TIMEOUT_S), *step.run, external=True)
    return time.monotonic() - started


def build_chosen(session, approaches: list[Approach]) -> None:
    """Builds what a tool's `--approaches a,b` (among the session's arguments; default: every
    approach) will run; Python approaches install into the session's virtualenv. Nothing for --help."""
    if "-h" in session.posargs or "--help" in session.posargs:
        return
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--approaches")
    ids = option.parse_known_args(session.posargs)[0].approaches
    try:
        chosen = select(approaches, ids) if ids else approaches
    except ManifestError as error:
        session.error(str(error))
    for approach in chosen:
        build(session, approach)


def write_constraints(session, python: list[Approach]) -> None:
    """python/constraints.txt: the newest releases that the Python approaches' requirements
    allow, resolved from scratch (pip's dry-run report)."""
    folder = python[0].folder
    # What the approaches install: requirement files and packages by name; not the constraints
    # (being written) nor local packages (not on PyPI; their dependencies are in the files).
    files, packages = [], []
    for approach in python:
        args = iter(approach.install)
        for arg in args:
            if arg in ("-r", "-c"):
                value = next(args)
                if arg == "-r":
                    files.append(value)
            elif not (folder / arg).exists():
                packages.append(arg)
    report = Path(session.create_tmp()).resolve() / "resolved.json"
    with session.chdir(folder):
        session.run(
            "python", "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
            *(arg for file in dict.fromkeys(files) for arg in ("-r", file)), *dict.fromkeys(packages),
        )
    resolved = sorted((item["metadata"]["name"].lower(), item["metadata"]["version"]) for item in json.loads(report.read_text())["install"])
    pins = [f"{name}=={version}" for name, version in resolved]
    header = "# The versions `nox -s python` installs (-c constraints.txt in approaches.toml).\n# Refresh: nox -s lock (newer releases are tried in nox -s matrix first).\n"
    (folder / "constraints.txt").write_text(header + "\n".join(pins) + "\n")
    session.log(f"wrote {folder / 'constraints.txt'}: {len(pins)} pins")


def unknown_approaches(approaches: list[Approach], sessions: str) -> list[str]:
    """Each `language(approach='x')` in `sessions` whose language has no approach x, in one line."""
    found = []
    for language, name in re.findall(r"(\w+)\s*\(\s*approach\s*=\s*['\"]([^'\"]*)['\"]\s*\)", sessions):
        known = [approach.name for approach in approaches if approach.language == language]
        if known and name not in known:
            found.append(f"{language} has no approach {name!r}; known: {', '.join(known)}")
    return found


class KnownApproaches(logging.Filter):
    """nox answers `-s "python(approach='x')"` with "Sessions not found: ..." only; this adds,
    on the same line, the approaches that the language has."""

    def __init__(self, approaches: list[Approach]):
        super().__init__()
        self.approaches = approaches

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Sessions not found:") and (hints := unknown_approaches(self.approaches, message)):
            record.msg, record.args = f"{message}: {'; '.join(hints)}", ()
        return True


def name_known_approaches(approaches: list[Approach]) -> None:
    logging.getLogger("nox").addFilter(KnownApproaches(approaches))


def run_unit_tests(session, approaches: list[Approach]) -> None:
    """Each language's own tests (its manifest's unit_tests), in its folder."""
    for language in languages(approaches):
        first = next(a for a in approaches if a.language == language)
        if first.unit_tests:
            require(session, *first.requires)
            with session.chdir(first.folder):
                for command in first.unit_tests:
                    session.run("timeout", str(BUILD_TIMEOUT_S), *command, external=True)
