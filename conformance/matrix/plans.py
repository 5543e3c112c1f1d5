"""What the matrix's cells try, from the manifests: each approach with an
[approaches.<name>.matrix] table (conformance/APPROACHES.md) gives its command-line options
(axes), their default requests, and the packages each request moves; this resolves the
requests against the registries (versions.py) into cells (cells.py)."""

from __future__ import annotations

import dataclasses
import itertools

from conformance import ecosystems
from conformance.approaches import Approach, ManifestError, languages
from conformance.manifest_tables import Axis
from conformance.matrix import versions
from conformance.matrix.cells import CELLS, Cell

IN_USE = "in-use"  # the versions the language folder's own manifest (go.mod, package.json) asks for


class Listings:
    """Each registry listing read once per run."""

    def __init__(self):
        self.cache: dict[tuple[str, str], list[str]] = {}

    def get(self, ecosystem: str, package: str) -> list[str]:
        if (ecosystem, package) not in self.cache:
            self.cache[ecosystem, package] = versions.LISTINGS[ecosystem][0](package)
        return self.cache[ecosystem, package]


def matrixed(manifests: list[Approach]) -> list[Approach]:
    """The approaches whose client the cells run."""
    return [approach for approach in manifests if approach.matrix]


def options(manifests: list[Approach]) -> dict[str, tuple[str, str]]:
    """--languages, then each axis's option: name -> (default, help)."""
    found = {"languages": (",".join(languages(matrixed(manifests))), "which languages' cells run")}
    for approach in matrixed(manifests):
        for axis in approach.matrix.axes:
            if axis.option in found:
                raise ManifestError(f"{approach.folder.name}/approaches.toml [approaches.{approach.name}.matrix]: option --{axis.option} is declared twice")
            found[axis.option] = (axis.default, axis.help)
        switch = approach.matrix.switch
        if switch:
            if switch.option in found:
                raise ManifestError(f"{approach.folder.name}/approaches.toml [approaches.{approach.name}.matrix.switch]: option --{switch.option} is declared twice")
            found[switch.option] = (switch.default, switch.help)
    return found


def _pieces(axis: Axis, request: str) -> list[str]:
    """One request per part: `v1.45.0/v0.59.0` for two parts."""
    return (request.split("/", len(axis.parts) - 1) + [""] * len(axis.parts))[: len(axis.parts)]


def _name(part) -> str:
    return part.shown or part.package


def cell(approach: Approach, requests: tuple[str, ...], listings) -> Cell:
    """The cell of one request per axis, or the cell that says why it cannot run."""
    kind, ecosystem = CELLS[approach.ecosystem], approach.ecosystem
    registry = versions.LISTINGS[ecosystem][1]
    shown, pins, key = {}, {}, [approach.language]
    try:
        for axis, request in zip(approach.matrix.axes, requests):
            pieces = _pieces(axis, request)
            if request == IN_USE and all(ecosystems.requested(ecosystem, approach.folder, part.package) for part in axis.parts):
                shown.update({_name(part): ecosystems.requested(ecosystem, approach.folder, part.package) for part in axis.parts})
                key.append(IN_USE)
                continue
            if not all(piece or part.optional for part, piece in zip(axis.parts, pieces)):
                wanted = "/".join(f"<{_name(part)} version>" for part in axis.parts)
                raise versions.Unresolvable(f"{approach.language} cell {request!r}: want {wanted}")
            for part, piece in ((part, piece) for part, piece in zip(axis.parts, pieces) if piece):
                version = versions.resolve(piece, listings.get(ecosystem, part.package), _name(part), registry)
                moved = dict.fromkeys(part.install, version)
                if part.paired:
                    package = part.paired["package"]
                    wanted = versions.paired(version, part.paired["from"], part.paired["to"], _name(part), package)
                    moved[package] = versions.resolve(wanted, listings.get(ecosystem, package), package, registry)
                pins.update(moved)
                shown.update({part.shown: version} if part.shown else moved)
                key.append(f"{part.key}-{version}")
    except versions.Unresolvable as error:
        asked = {_name(part): piece for axis, request in zip(approach.matrix.axes, requests) for part, piece in zip(axis.parts, _pieces(axis, request))}
        return kind(approach.language, approach.id, "", asked, approach.matrix.fixable, error=str(error), manifest=approach)
    return kind(approach.language, approach.id, "-".join(key), shown, approach.matrix.fixable, pins=pins, manifest=approach)


def plan(approach: Approach, requests: list[list[str]], listings, switched: list[str] = ()) -> list[Cell]:
    """A cell per combination of the axes' requests (one list per axis), the first axis slowest;
    then one per value of the approach's switch, on the switch's releases."""
    cells = [cell(approach, combination, listings) for combination in itertools.product(*requests)]
    switch = approach.matrix.switch
    if switch:
        base = cell(approach, tuple(switch.on), listings)
        # replace() would hand each the base's results dict: each gets its own.
        cells += [dataclasses.replace(base, settings={switch.variable: value}, results={}) for value in switched]
    return cells
