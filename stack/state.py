"""What the last `up` started (STATE_DIR/state.json), so that `down` and `status` work from
another process: the backend, and each embedded component's process group, log, start
time and seconds to ready."""

from __future__ import annotations

import json

from stack.addresses import STATE_DIR, STATE_FILE
from stack.processes import group_members


def load() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def save(state: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")


def clear() -> None:
    STATE_FILE.unlink(missing_ok=True)


def running_pgid(state: dict, name: str) -> int | None:
    pgid = state.get(name, {}).get("pgid")
    return pgid if pgid and group_members(pgid) else None
