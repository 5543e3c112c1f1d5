"""What a language folder's build tool says about its packages, by ecosystem (approaches.toml
`ecosystem`, conformance/APPROACHES.md): the version a folder has (the bench report) and the
one it asks for (the matrix's in-use cells). Code by build tool, never by language."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

UNKNOWN = "?"


def go_mod(folder: Path, module: str) -> str:
    """The version go.mod requires of `module`."""
    path = folder / "go.mod"
    found = re.search(rf"^\s*{re.escape(module)} (v\S+)", path.read_text(), re.MULTILINE) if path.exists() else None
    return found.group(1) if found else UNKNOWN


def _pip(folder: Path, package: str) -> str:
    # Installed beside the tools: nox installs the Python approaches into the session's virtualenv.
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN


def _pom(folder: Path, property_name: str) -> str:
    path = folder / "pom.xml"
    found = re.search(rf"<{re.escape(property_name)}>([^<]+)<", path.read_text()) if path.exists() else None
    return found.group(1) if found else UNKNOWN


def _node_modules(folder: Path, package: str) -> str:
    try:
        return json.loads((folder / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError):
        return UNKNOWN


def _package_json(folder: Path, package: str) -> str:
    return json.loads((folder / "package.json").read_text()).get("dependencies", {}).get(package, UNKNOWN)


# ecosystem -> how a name is read: pip a distribution, maven a property of pom.xml, go a
# module of go.mod, npm a package in node_modules.
_INSTALLED = {"pip": _pip, "maven": _pom, "go": go_mod, "npm": _node_modules}
# ecosystem -> the version the folder's own manifest asks for (matrix `in-use`).
_REQUESTED = {"go": go_mod, "npm": _package_json}


def installed(ecosystem: str, folder: Path, name: str) -> str:
    """The version of `name` that the folder has; "?" when not found."""
    return _INSTALLED[ecosystem](folder, name)


def requested(ecosystem: str, folder: Path, package: str) -> str | None:
    """The version the folder's manifest asks for; None when the ecosystem pins it elsewhere."""
    reader = _REQUESTED.get(ecosystem)
    return reader(folder, package) if reader else None
