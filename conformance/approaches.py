"""Every instrumentation approach, read from the language folders' approaches.toml
(conformance/APPROACHES.md). The one list that the noxfile, the suite, the report,
the bench and the matrix use, with what each language's folder knows for them: its
profiler, its package versions, the bench's trims, the matrix's cells."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from conformance.manifest_tables import (
    ECOSYSTEMS,
    ManifestError,
    Matrix,
    Profile,
    Versions,
    read_matrix,
    read_profile,
    read_trims,
    read_versions,
    want_choice,
    want_env,
    want_seconds,
    want_strings,
    want_table,
)

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "approaches.toml"
DEFAULT_UNTRACED_ENV = {"OTEL_SDK_DISABLED": "true"}


@dataclass(frozen=True)
class BuildStep:
    run: list[str]
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def is_fresh(self, folder: Path, outputs: list[Path] | None = None) -> bool:
        """True when every output exists and is newer than every input: the step can be skipped."""
        outputs = outputs or [folder / output for output in self.outputs]
        if not outputs:
            return False
        if not all(path.exists() for path in outputs):
            return False
        inputs = [path for pattern in self.inputs for path in folder.glob(pattern) if path.is_file()]
        newest_input = max((path.stat().st_mtime for path in inputs), default=0.0)
        return min(path.stat().st_mtime for path in outputs) > newest_input


@dataclass(frozen=True)
class Approach:
    language: str
    name: str
    folder: Path
    order: int
    requires: list[str]
    description: str
    run: list[str]
    link_fix: str
    untraced_switch: str
    env: dict[str, str] = field(default_factory=dict)
    install: list[str] = field(default_factory=list)
    build: list[BuildStep] = field(default_factory=list)
    untraced_run: list[str] | None = None
    untraced_env: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UNTRACED_ENV))
    token_leak: str = "not known"  # the setting that would put MILVUS_TOKEN on a span
    bench_settle_s: float = 0.0  # the bench lets each client run alone about this long first, until its JIT settled
    ecosystem: str | None = None  # the language's, one of ECOSYSTEMS
    profile: Profile | None = None  # the language's profiler, if the bench profiles it
    versions: Versions | None = None  # the language's versions in the bench report
    trims: dict[str, dict[str, str]] = field(default_factory=dict)  # the bench's trimmed modes: name -> settings
    matrix: Matrix | None = None  # the matrix's cells, if they run this approach
    unit_tests: list[list[str]] = field(default_factory=list)  # the language's own tests, run by `nox -s tests`

    @property
    def id(self) -> str:
        """`<language>/<approach>`: how reports and messages name it."""
        return f"{self.language}/{self.name}"

    @property
    def slug(self) -> str:
        """`<language>-<approach>`: file names (run records) and service names."""
        return f"{self.language}-{self.name}"

    def service_name(self, scenario: dict) -> str:
        return scenario["client_service_prefix"] + self.slug

    def session(self) -> str:
        """The nox session that runs only this approach."""
        return f"{self.language}(approach='{self.name}')"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


REQUIRED = ("description", "run", "link_fix", "untraced_switch")
OPTIONAL = ("env", "install", "build", "untraced_run", "untraced_env", "token_leak", "bench", "matrix")
TOP = ("language", "order", "requires", "bench_settle_s", "ecosystem", "profile", "versions", "unit_tests", "approaches")


def _approach(language: str, name: str, table: dict, top: dict, path: Path) -> Approach:
    where = f"{_shown(path)} [approaches.{name}]"
    want_table(table, where, OPTIONAL, REQUIRED)
    steps = []
    for index, step in enumerate(table.get("build", [])):
        step_where = f"{where} build[{index}]"
        steps.append(
            BuildStep(
                want_strings(step.get("run"), f"{step_where}.run"),
                want_strings(step.get("inputs", []), f"{step_where}.inputs"),
                want_strings(step.get("outputs", []), f"{step_where}.outputs"),
            )
        )
    shown = _shown(path)
    return Approach(
        language=language,
        name=name,
        folder=path.parent,
        order=top.get("order", 99),
        requires=want_strings(top.get("requires", []), f"{shown} requires"),
        description=table["description"],
        run=want_strings(table["run"], f"{where}.run"),
        link_fix=table["link_fix"],
        untraced_switch=table["untraced_switch"],
        env=want_env(table.get("env", {}), f"{where}.env"),
        install=want_strings(table.get("install", []), f"{where}.install"),
        build=steps,
        untraced_run=want_strings(table["untraced_run"], f"{where}.untraced_run") if "untraced_run" in table else None,
        untraced_env=want_env(table.get("untraced_env", DEFAULT_UNTRACED_ENV), f"{where}.untraced_env"),
        token_leak=table.get("token_leak", "not known"),
        bench_settle_s=want_seconds(top.get("bench_settle_s", 0), f"{shown} bench_settle_s"),
        ecosystem=want_choice(top["ecosystem"], f"{shown} ecosystem", ECOSYSTEMS) if "ecosystem" in top else None,
        profile=read_profile(top["profile"], f"{shown} [profile]") if "profile" in top else None,
        versions=read_versions(top["versions"], f"{shown} [versions]") if "versions" in top else None,
        trims=read_trims(table.get("bench", {}), f"{where}.bench"),
        matrix=read_matrix(table["matrix"], f"{where}.matrix") if "matrix" in table else None,
        unit_tests=[want_strings(command, f"{shown} unit_tests[{i}]") for i, command in enumerate(top.get("unit_tests", []))],
    )


def load(path: Path) -> list[Approach]:
    try:
        top = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{_shown(path)}: {error}") from None
    language = top.get("language")
    if not isinstance(language, str) or not top.get("approaches"):
        raise ManifestError(f"{_shown(path)}: needs `language` and at least one [approaches.<name>] table")
    want_table(top, _shown(path), TOP)
    approaches = [_approach(language, name, table, top, path) for name, table in top["approaches"].items()]
    if "ecosystem" not in top and ("versions" in top or any(approach.matrix for approach in approaches)):
        raise ManifestError(f"{_shown(path)}: [versions] and [approaches.<name>.matrix] need `ecosystem`")
    return approaches


def load_all(root: Path = ROOT) -> list[Approach]:
    """Every approach of every language folder, languages in their `order`, approaches as declared."""
    found = [approach for path in sorted(root.glob(f"*/{MANIFEST}")) for approach in load(path)]
    return sorted(found, key=lambda approach: approach.order)


def languages(approaches: list[Approach]) -> list[str]:
    return list(dict.fromkeys(approach.language for approach in approaches))


def find(approaches: list[Approach], approach_id: str) -> Approach:
    for approach in approaches:
        if approach_id in (approach.id, approach.slug):
            return approach
    known = ", ".join(approach.id for approach in approaches)
    raise ManifestError(f"unknown approach {approach_id!r}; known: {known}")


def select(approaches: list[Approach], ids: str) -> list[Approach]:
    """`<language>/<approach>,...` -> those approaches, in that order (the tools' --approaches)."""
    return [find(approaches, approach_id) for approach_id in ids.split(",") if approach_id]
