"""Gives the demo a new Milvus user with a random password, and drops the old one.

Run by milvus_user.py with the Milvus venv's Python when the stored token no longer works
(a fresh Milvus, lost data) and on `stackctl.py rotate`:
`python milvus_auth.py URI TOKEN_FILE ROOT_PASSWORD_FILE`. Authorization is on
(milvus_standalone.py). Root's well-known default password is replaced by a random one
the first time, kept in ROOT_PASSWORD_FILE. Secrets are written only to files of mode
0600, never printed.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

from pymilvus import MilvusClient

USER_PREFIX = "otel_demo_"
DEFAULT_ROOT_PASSWORD = "Milvus"
TIMEOUT_S = 10
GRANT_TIMEOUT_S = 240  # measured here: 26 s, 50 s, 106 s after the grant


class AuthError(Exception):
    """Milvus would not give the demo its user; one line."""


def write_secret(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(part, path)


def log_in_as_root(uri: str, root_file: Path) -> tuple[MilvusClient, str]:
    stored = root_file.read_text().strip() if root_file.exists() else None
    for password in filter(None, (stored, DEFAULT_ROOT_PASSWORD)):
        try:
            client = MilvusClient(uri=uri, token=f"root:{password}", timeout=TIMEOUT_S)
            client.list_users()
            return client, password
        except Exception:  # a refused login surfaces as several exception types
            continue
    raise AuthError(f"cannot log in to Milvus at {uri} as root with the stored or the default password")


def main(uri: str, token_file: Path, root_file: Path) -> int:
    client, root_password = log_in_as_root(uri, root_file)
    if root_password == DEFAULT_ROOT_PASSWORD:
        new_root_password = secrets.token_urlsafe(24)
        client.update_password("root", DEFAULT_ROOT_PASSWORD, new_root_password)
        write_secret(root_file, new_root_password)
        client.close()  # its token is the old password now
        client = MilvusClient(uri=uri, token=f"root:{new_root_password}", timeout=TIMEOUT_S)
    # A new name each time: Milvus 2.3.5 can lose the role of a user dropped and created
    # again under the same name ("permission deny ... role_names=[public]" a minute later).
    user = f"{USER_PREFIX}{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    client.create_user(user, password)
    client.grant_role(user, "admin")
    wait_until_admin(uri, f"{user}:{password}")
    write_secret(token_file, f"{user}:{password}")
    for old in client.list_users():  # only now: the old token served until the new one could
        if old.startswith(USER_PREFIX) and old != user:
            client.drop_user(old)
    print(f"Milvus user {user!r} created; its token is in {token_file} (mode 0600)")
    return 0


def wait_until_admin(uri: str, token: str) -> None:
    """Milvus 2.3.5's proxy applies a new grant some time later (until then: "permission deny
    ... role_names=[public]"): wait until the user may drop a collection, as the scenario does."""
    deadline = time.monotonic() + GRANT_TIMEOUT_S
    client = MilvusClient(uri=uri, token=token, timeout=TIMEOUT_S)
    while True:
        try:
            client.drop_collection(f"{USER_PREFIX}grant_probe")  # none such: only the privilege matters
            return
        except Exception as error:  # pymilvus raises several types; only a refusal means "not yet"
            if "permission deny" not in str(error).lower():
                return
            if time.monotonic() > deadline:
                raise AuthError(f"Milvus did not apply the admin role to the new user within {GRANT_TIMEOUT_S} s") from None
            time.sleep(1)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
    except AuthError as error:
        sys.exit(str(error))
