"""What one approach's run left behind: its run record (.runs/<language>-<approach>.json)
and, once fetched from Jaeger, its trace; and the token its client was given."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.approaches import Approach
from conformance.paths import RUNS_DIR, SCENARIO_FILE
from conformance.spans import Span, Trace
from stack.addresses import CLUSTER_SERVER_SERVICE, milvus_mode, milvus_token


def load_scenario(path: Path = SCENARIO_FILE) -> dict:
    """The contract, plus `server_services`: the Milvus services whose SERVER spans answer
    the client. MILVUS_SERVER_SERVICES (comma-separated) sets them: distributed Milvus on
    Kubernetes serves clients from `proxy`; else the stack's cluster's proxy
    (STACK_MILVUS_MODE=cluster), else the scenario's `server_service` (the standalone)."""
    scenario = json.loads(path.read_text())
    names = [name.strip() for name in os.environ.get("MILVUS_SERVER_SERVICES", "").split(",") if name.strip()]
    default = CLUSTER_SERVER_SERVICE if milvus_mode() == "cluster" else scenario["server_service"]
    scenario["server_services"] = names or [default]
    return scenario


@dataclass
class Run:
    record: dict
    trace: Trace | None
    waited_s: float = 0.0
    # Root spans of other traces recorded by Milvus while the client ran: where
    # server spans go when Milvus did not accept the client's traceparent.
    server_roots: list[Span] = field(default_factory=list)
    # What must appear nowhere in the trace (the no_credentials check): MILVUS_TOKEN.
    secrets: list[str] = field(default_factory=list)

    @property
    def approach_id(self) -> str:
        return f"{self.record.get('language', '?')}/{self.record.get('approach', '?')}"

    def expected_service(self, scenario: dict) -> str:
        return f"{scenario['client_service_prefix']}{self.record.get('language', '?')}-{self.record.get('approach', '?')}"


def token(environ: Mapping[str, str] = os.environ) -> str | None:
    """The clients' MILVUS_TOKEN: the caller's (any Milvus) wins over the embedded stack's
    token file, read at each call: a stack restart makes a new one."""
    return environ.get("MILVUS_TOKEN") or milvus_token()


def known_secrets() -> list[str]:
    """The Milvus token the clients were given."""
    secret = token()
    return [secret] if secret else []


def record_path(approach: Approach, runs_dir: Path | None = None) -> Path:
    return (runs_dir or RUNS_DIR) / f"{approach.slug}.json"


def read_record(approach: Approach, runs_dir: Path | None = None) -> dict | None:
    """The approach's last run record, None when it has not run."""
    try:
        return json.loads(record_path(approach, runs_dir).read_text())
    except FileNotFoundError:
        return None
