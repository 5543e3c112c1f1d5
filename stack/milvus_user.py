"""The demo's Milvus user (STATE_DIR/milvus-token), for the embedded and docker stacks:
kept while Milvus serves its token, else a new one (milvus_auth.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Callable

from stack.addresses import MILVUS_ROOT_PASSWORD_FILE, MILVUS_TOKEN_FILE, STACK_DIR, StackError, local_milvus_uri, milvus_token
from stack.installs import ensure_milvus_installed
from stack.processes import run_step, say, wait_until

MILVUS_SERVE_TIMEOUT_S = 120  # after its health check: a restarted Milvus hangs DDL until its old sessions expire
PROBE_COLLECTION = "otel_demo_stack_probe"  # made and dropped by every `up`, through Milvus's REST API


def milvus_answer(token: str) -> str:
    """What our Milvus makes of `token`, through its REST API and the standard library
    (milvus_auth.py needs pymilvus, a second to import): "serves" (it creates and drops a
    collection, as the scenario does), "refused" (the token or its privileges), or "not
    ready". A restarted Milvus can pass its health check and hang DDL until the sessions
    of a killed one expire (COMMON_SESSION_TTL in backends/embedded.py)."""
    base = f"{local_milvus_uri()}/v1/vector"

    def ask(path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{base}/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=3) as response:  # a hung call is "not ready": ask again
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # a refused token comes as 401 with code 1800 in the body
            return json.loads(error.read())

    try:
        listed = ask("collections")
        if listed.get("code") == 1800:  # "user hasn't authenticated"
            return "refused"
        if listed.get("code") != 200:
            return "not ready"
        answers = [
            ask("collections/drop", {"collectionName": PROBE_COLLECTION}),  # one left by an interrupted `up`, if any
            ask("collections/create", {"collectionName": PROBE_COLLECTION, "dimension": 2}),
            ask("collections/drop", {"collectionName": PROBE_COLLECTION}),
        ]
    except (OSError, ValueError):
        return "not ready"
    if any("permission deny" in str(answer.get("message", "")).lower() for answer in answers):
        return "refused"
    return "serves" if answers[1].get("code") == answers[2].get("code") == 200 else "not ready"


def wait_for_answer(token: str, alive: Callable[[], bool] = lambda: True) -> str:
    """Milvus's answer to `token` once it gives one ("serves" or "refused")."""
    answer = ""

    def answered() -> bool:
        nonlocal answer
        answer = milvus_answer(token)
        return answer != "not ready"

    wait_until("Milvus to serve requests", answered, MILVUS_SERVE_TIMEOUT_S, alive=alive)
    return answer


def ensure_milvus_user(rotate: bool = False, alive: Callable[[], bool] = lambda: True) -> None:
    """The demo's user, kept while Milvus serves its token: Milvus 2.3.5 applies a new user's
    grant 26-106 s after creating it (measured). A new one (stack/milvus_auth.py) when Milvus
    refuses the token, or with `rotate`. Returns once Milvus serves the token."""
    token = milvus_token()
    if token and not rotate and wait_for_answer(token, alive) == "serves":
        say(f"the demo's Milvus user {token.split(':')[0]!r} works; keeping it")
        return
    run_step(
        "a new Milvus user for the demo",
        [
            ensure_milvus_installed(),
            STACK_DIR / "milvus_auth.py",
            local_milvus_uri(),
            MILVUS_TOKEN_FILE,
            MILVUS_ROOT_PASSWORD_FILE,
        ],
        300,  # milvus_auth.py waits up to 240 s for Milvus to apply the new grant
    )
    if wait_for_answer(milvus_token() or "", alive) != "serves":
        raise StackError(
            f"Milvus refuses the new user's token in {MILVUS_TOKEN_FILE}; `python stack/stackctl.py rotate` makes another"
        )
