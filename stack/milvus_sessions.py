"""Ends a running Milvus's etcd sessions, so that the next Milvus does not wait for them.

Milvus 2.3.5 revokes only its root coordinator's session when it stops; the others
stay in its embedded etcd, whose restart gives every lease its full TTL again. The next
Milvus then holds its health check and every DDL until they expire (measured: a warm
`up` of 15 s with COMMON_SESSION_TTL=10, 35 s with the default 30). Deleting them just
before the stop, in one etcd transaction through etcd's JSON gateway, leaves nothing to
wait for. The nodes' sessions are marked TriggerKill: Milvus stops itself as soon as
they go, which is why they go all at once.
"""

import base64
import json
import urllib.request

SESSION_PREFIX = "by-dev/meta/session/"  # Milvus's etcd.rootPath and metaSubPath, as the stack runs them


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _post(etcd_url: str, path: str, body: dict, timeout_s: float) -> dict:
    request = urllib.request.Request(
        f"{etcd_url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.load(response)


def session_keys(etcd_url: str, timeout_s: float = 3.0) -> list[str]:
    """Every leased key under SESSION_PREFIX, base64 as etcd's gateway speaks (the session
    id counter has no lease). Raises OSError or ValueError when etcd does not answer."""
    range_end = SESSION_PREFIX[:-1] + chr(ord(SESSION_PREFIX[-1]) + 1)
    listing = _post(
        etcd_url,
        "/v3/kv/range",
        {"key": _b64(SESSION_PREFIX), "range_end": _b64(range_end), "keys_only": True},
        timeout_s,
    )
    return [kv["key"] for kv in listing.get("kvs", []) if kv.get("lease")]


def end_sessions(etcd_url: str, timeout_s: float = 3.0) -> int:
    """Delete every session at once; returns how many."""
    keys = session_keys(etcd_url, timeout_s)
    if keys:
        _post(etcd_url, "/v3/kv/txn", {"success": [{"requestDeleteRange": {"key": key}} for key in keys]}, timeout_s)
    return len(keys)
