"""python -m conformance.semconv.generate [RELEASE]: rewrites rules.json from a release of the
semantic conventions (default: the pinned RELEASE below).

The attributes come from npm's @opentelemetry/semantic-conventions, whose version is the
conventions' release and whose typings carry each attribute's stability and deprecation
(with the replacement) from the conventions' YAML model. The gRPC span rules (requirement
levels, span name and kind) are in the model's spans.yaml, which no registry ships: they are
transcribed below, from the same release."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@opentelemetry/semantic-conventions"
RELEASE = "1.45.0"
RULES = Path(__file__).with_name("rules.json")
NPM_TIMEOUT_S = 120
FILES = {"stable": "stable_attributes", "experimental": "experimental_attributes"}
# One JSDoc block and the constant it documents: a plain attribute or a template (key) => ...
DECLARATION = re.compile(r"/\*\*((?:(?!\*/).)*?)\*/\s*declare const (ATTR_\w+): ([^;]+);", re.S)
TEMPLATE = re.compile(r"const (ATTR_\w+) = \(key\) => `([^`$]+)\$\{key\}`;")
BACKTICKED = re.compile(r"`([a-z0-9_.]+)`")

# model/rpc/spans.yaml (span.rpc.grpc.call.client / .server, extending `rpc` and
# common.rpc.attributes) and docs/rpc/rpc-spans.md#name, semantic-conventions v1.45.0.
# rules() checks each name against the release's attributes: none may be unknown or deprecated.
SPANS = {
    "client": {
        "id": "span.rpc.grpc.call.client",
        "kind": "client",
        "required": ["rpc.system.name", "rpc.method", "rpc.status_code", "server.address"],
        "conditionally_required": ["server.port", "rpc.method_original", "error.type"],
        "recommended": ["network.peer.address", "network.peer.port"],
        "opt_in": ["rpc.request.header.", "rpc.response.header."],
    },
    "server": {
        "id": "span.rpc.grpc.call.server",
        "kind": "server",
        "required": ["rpc.system.name", "rpc.status_code"],
        "conditionally_required": ["rpc.method", "server.port", "rpc.method_original", "error.type"],
        "recommended": ["server.address", "network.peer.address", "network.peer.port"],
        "opt_in": ["rpc.request.header.", "rpc.response.header."],
    },
}
SPAN_NAME = {
    "rule": "{rpc.method}",
    "text": "{rpc.method} (the fully qualified service/Method) if available and not _OTHER, else {rpc.system.name}",
}
SYSTEM = {"attribute": "rpc.system.name", "value": "grpc"}


class GenerateError(Exception):
    """The release cannot be read; one line."""


def download(release: str, into: Path) -> Path:
    """The package's files, unpacked: `npm pack` fetches the tarball the registry serves."""
    try:
        done = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{release}"], cwd=into, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
        )
    except FileNotFoundError:
        raise GenerateError("npm is not installed; it fetches the conventions' package") from None
    except subprocess.TimeoutExpired:
        raise GenerateError(f"npm pack {PACKAGE}@{release} took over {NPM_TIMEOUT_S} s") from None
    if done.returncode != 0:
        # npm's first error lines: the code, then what it means.
        lines = [line.removeprefix("npm error ") for line in done.stderr.splitlines() if line.startswith("npm error")]
        raise GenerateError(f"npm pack {PACKAGE}@{release} failed: {'; '.join(lines[:2]) or f'exit {done.returncode}'}")
    tarball = into / done.stdout.split()[-1]
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    return into / "package" / "dist"


def _deprecation(doc: str) -> str | None:
    found = re.search(r"@deprecated\s+(.*?)(?=\n\s*\*\s*@|\Z)", doc, re.S)
    return " ".join(line.strip(" *") for line in found.group(1).splitlines()).strip() if found else None


def attributes(dist: Path) -> dict[str, dict]:
    """Attribute name (a template's ends with ".") -> its stability, and its deprecation."""
    found: dict[str, dict] = {}
    for stability, stem in FILES.items():
        templates = dict(TEMPLATE.findall((dist / f"{stem}.cjs").read_text()))
        for doc, constant, value in DECLARATION.findall((dist / f"{stem}.d.cts").read_text()):
            name = value.strip('"') if value.startswith('"') else templates.get(constant)
            if name is None:
                raise GenerateError(f"{stem}: {constant} is neither a name nor a (key) => template")
            entry = {"stability": stability}
            deprecated = _deprecation(doc)
            if deprecated:
                entry["deprecated"] = deprecated
            found[name] = entry
    for name, entry in found.items():
        if "deprecated" in entry:
            named = [n if n in found else n + "." for n in BACKTICKED.findall(entry["deprecated"])]
            entry["replaced_by"] = [n for n in named if n in found and n != name]
    return found


def check_spans(found: dict[str, dict]) -> None:
    """The transcribed span rules name only current attributes of the release."""
    for span in SPANS.values():
        for level in ("required", "conditionally_required", "recommended", "opt_in"):
            for name in span[level]:
                if name not in found or "deprecated" in found[name]:
                    state = "deprecated" if name in found else "not an attribute"
                    raise GenerateError(f"{span['id']} {level}: {name} is {state} in this release; update SPANS")


def rules(release: str, dist: Path) -> dict:
    found = attributes(dist)
    check_spans(found)
    return {
        "release": release,
        "source": f"npm {PACKAGE}@{release} (dist/*_attributes.d.cts); span rules: model/rpc/spans.yaml",
        "regenerate": "python -m conformance.semconv.generate",
        "system": SYSTEM,
        "span_name": SPAN_NAME,
        "spans": SPANS,
        "attributes": dict(sorted(found.items())),
    }


def main(argv: list[str]) -> int:
    release = argv[0] if argv else RELEASE
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data = rules(release, download(release, Path(scratch)))
    except GenerateError as error:
        print(f"semconv: {error}", file=sys.stderr)
        return 1
    # One attribute a line: a new release's diff reads attribute by attribute.
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in data.pop("attributes").items()]
    head = json.dumps(data, indent=2)[:-2]
    RULES.write_text(head + ',\n  "attributes": {\n' + ",\n".join("  " + line for line in lines) + "\n  }\n}\n")
    print(f"semconv: wrote {RULES} ({len(lines)} attributes of {PACKAGE}@{release})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
