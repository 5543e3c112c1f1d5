"""The external backend (STACK_BACKEND=external): a Milvus and a Jaeger that run elsewhere,
at MILVUS_URI and JAEGER_API_URL; nothing is started or stopped, only checked."""

from __future__ import annotations

import socket
import urllib.parse

from stack.addresses import StackError, jaeger_api_url, milvus_uri
from stack.components import http_ok


def problems() -> list[str]:
    """What does not answer at MILVUS_URI and JAEGER_API_URL."""
    found = []
    jaeger = jaeger_api_url()
    if not http_ok(f"{jaeger}/api/services"):
        found.append(f"Jaeger's query API does not answer at JAEGER_API_URL={jaeger}")
    milvus = milvus_uri()
    uri = urllib.parse.urlsplit(milvus if "://" in milvus else f"//{milvus}")
    try:
        # 19530 is Milvus's standard port, what its SDKs assume when the URI names none.
        socket.create_connection((uri.hostname, uri.port or 19530), timeout=5).close()
    except (OSError, ValueError) as error:
        found.append(f"nothing accepts connections at MILVUS_URI={milvus} ({error})")
    return found


def up() -> None:
    found = problems()
    if found:
        raise StackError("; ".join(found))
