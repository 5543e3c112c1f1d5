"""Which release a cell tries: a request (a version, `newest`, `before:X`, `after:X`)
resolved against the registry's listing, read at run time with the registry's own client."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import requests

LISTING_TIMEOUT_S = 120
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


class Unresolvable(Exception):
    """A request the listing cannot satisfy; one line, shown in the cell."""


def release_key(version: str) -> tuple[int, ...] | None:
    """(1, 42, 0) for `1.42.0` or `v1.42.0`; None for pre-releases (rc, alpha, b0)."""
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)", version)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def resolve(request: str, listing: list[str], package: str, registry: str) -> str:
    relation, _, pivot = request.rpartition(":")
    if request != "newest" and relation not in ("before", "after"):
        if request not in listing:
            raise Unresolvable(f"{package} {request} does not exist on {registry}")
        return request
    releases = sorted((v for v in listing if release_key(v) is not None), key=release_key)
    if not releases:
        raise Unresolvable(f"{package}: {registry} lists no release")
    if request == "newest":
        return releases[-1]
    pivot_key = release_key(pivot)
    if pivot_key is None:
        raise Unresolvable(f"{package} {request}: {pivot!r} is not a release number")
    older = [v for v in releases if release_key(v) < pivot_key]
    newer = [v for v in releases if release_key(v) > pivot_key]
    found = older[-1:] if relation == "before" else newer[:1]
    if not found:
        raise Unresolvable(f"{package}: {registry} has no release {relation} {pivot}")
    return found[0]


def paired(version: str, source: str, target: str, name: str, paired_name: str) -> str:
    """The release of `paired_name` made with `version` of `name`, by the manifest's patterns:
    `1.{minor}.{patch}` -> `0.{minor+21}b{patch}` pairs 1.42.1 with 0.63b1."""
    pieces = re.split(r"\{(\w+)\}", source)  # literal, name, literal, ...
    pattern = "".join(re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>\\d+)" for index, piece in enumerate(pieces))
    found = re.fullmatch(pattern, version)
    if not found:
        raise Unresolvable(f"{name} {version}: no {paired_name} release pairs with it")
    numbers = {key: int(value) for key, value in found.groupdict().items()}
    return re.sub(r"\{(\w+)([+-]\d+)?\}", lambda m: str(numbers[m.group(1)] + int(m.group(2) or 0)), target)


def _run(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=LISTING_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unresolvable(f"could not list {what}: {type(error).__name__}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise Unresolvable(f"could not list {what}: {last}")
    return done.stdout


def pypi(package: str) -> list[str]:
    # --pre: contrib releases (0.63b1) are pre-releases to pip.
    out = _run([sys.executable, "-m", "pip", "index", "versions", "--pre", package, "--disable-pip-version-check"], package)
    line = next((l for l in out.splitlines() if l.startswith("Available versions:")), "")
    return [v.strip() for v in line.partition(":")[2].split(",") if v.strip()]


def npm(package: str) -> list[str]:
    return json.loads(_run(["npm", "view", package, "versions", "--json"], package))


def go_proxy(module: str) -> list[str]:
    return _run(["go", "list", "-m", "-versions", module], module).split()[1:]


def maven(coordinate: str) -> list[str]:
    """The artifact's (group:artifact) maven-metadata.xml: the listing Maven itself reads."""
    group, _, artifact = coordinate.partition(":")
    url = f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/maven-metadata.xml"
    try:
        response = requests.get(url, timeout=LISTING_TIMEOUT_S)
        response.raise_for_status()
    except requests.RequestException as error:
        raise Unresolvable(f"could not list {group}:{artifact}: {type(error).__name__}") from None
    return re.findall(r"<version>([^<]+)</version>", response.text)


# ecosystem (approaches.toml) -> its registry's listing of a package, and the registry's name
LISTINGS = {"pip": (pypi, "PyPI"), "maven": (maven, "Maven Central"), "go": (go_proxy, "the Go module proxy"), "npm": (npm, "npm")}
