"""Every instrumentation approach, read from the language folders' approaches.toml
(conformance/APPROACHES.md). The one list that the noxfile, the suite, the report
and the bench use."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "approaches.toml"
DEFAULT_UNTRACED_ENV = {"OTEL_SDK_DISABLED": "true"}


class ManifestError(Exception):
    """A manifest that cannot be used; one line naming the file and the field."""


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
    bench_settle_s: float = 0.0  # the bench lets each client run alone this long first (a JIT's warm-up)

    @property
    def id(self) -> str:
        """`python/zero-code`: how reports and messages name it."""
        return f"{self.language}/{self.name}"

    @property
    def slug(self) -> str:
        """`python-zero-code`: file names (run records) and service names."""
        return f"{self.language}-{self.name}"

    def service_name(self, scenario: dict) -> str:
        return scenario["client_service_prefix"] + self.slug

    def session(self) -> str:
        """The nox session that runs only this approach."""
        return f"{self.language}(approach='{self.name}')"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _strings(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ManifestError(f"{where}: want a list of strings")
    return value


def _env(value, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ManifestError(f"{where}: want a table of strings")
    return dict(value)


def _seconds(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ManifestError(f"{where}: want a number of seconds >= 0")
    return float(value)


REQUIRED = ("description", "run", "link_fix", "untraced_switch")


def _approach(language: str, name: str, table: dict, top: dict, path: Path) -> Approach:
    where = f"{_shown(path)} [approaches.{name}]"
    missing = [key for key in REQUIRED if key not in table]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    unknown = set(table) - {*REQUIRED, "env", "install", "build", "untraced_run", "untraced_env", "token_leak"}
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    steps = []
    for index, step in enumerate(table.get("build", [])):
        step_where = f"{where} build[{index}]"
        steps.append(
            BuildStep(
                _strings(step.get("run"), f"{step_where}.run"),
                _strings(step.get("inputs", []), f"{step_where}.inputs"),
                _strings(step.get("outputs", []), f"{step_where}.outputs"),
            )
        )
    return Approach(
        language=language,
        name=name,
        folder=path.parent,
        order=top.get("order", 99),
        requires=_strings(top.get("requires", []), f"{_shown(path)} requires"),
        description=table["description"],
        run=_strings(table["run"], f"{where}.run"),
        link_fix=table["link_fix"],
        untraced_switch=table["untraced_switch"],
        env=_env(table.get("env", {}), f"{where}.env"),
        install=_strings(table.get("install", []), f"{where}.install"),
        build=steps,
        untraced_run=_strings(table["untraced_run"], f"{where}.untraced_run") if "untraced_run" in table else None,
        untraced_env=_env(table.get("untraced_env", DEFAULT_UNTRACED_ENV), f"{where}.untraced_env"),
        token_leak=table.get("token_leak", "not known"),
        bench_settle_s=_seconds(top.get("bench_settle_s", 0), f"{_shown(path)} bench_settle_s"),
    )


def load(path: Path) -> list[Approach]:
    try:
        top = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{_shown(path)}: {error}") from None
    language = top.get("language")
    if not isinstance(language, str) or not top.get("approaches"):
        raise ManifestError(f"{_shown(path)}: needs `language` and at least one [approaches.<name>] table")
    return [_approach(language, name, table, top, path) for name, table in top["approaches"].items()]


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
    """`python/sdk,go/otelgrpc` -> those approaches, in that order (the tools' --approaches)."""
    return [find(approaches, approach_id) for approach_id in ids.split(",") if approach_id]
