"""The shared stack, restarted for a while with settings of a tool's own (STACK_TAIL_SAMPLING,
STACK_SPAN_COUNTS, ...): only the components the settings change restart."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

from stack import supervisor


@contextlib.contextmanager
def stack_with(**settings: str | None) -> Iterator[None]:
    """The stack restarted as the settings ask (only what they change restarts), and as it
    was afterwards; its progress lines kept off the tool's output."""
    before = {key: os.environ.get(key) for key in settings}

    def apply(values: dict) -> None:
        for key, value in values.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        with contextlib.redirect_stdout(io.StringIO()):
            supervisor.up()

    apply(settings)
    try:
        yield
    finally:
        apply(before)
