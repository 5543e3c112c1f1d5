"""The shared Milvus + Jaeger stack: `python stack/stackctl.py up|down|status|rotate`
(rotate: a new Milvus user and password for the demo).

Three backends, chosen by STACK_BACKEND (stack/backends/): embedded (default: Milvus
from PyPI, Jaeger built with Go, no Docker), docker (stack/docker-compose.yaml), and
external (any Milvus + Jaeger by URL; nothing started). STACK_MILVUS_MODE=cluster runs the
embedded Milvus distributed (stack/backends/cluster.py). The API is stack/supervisor.py;
this file turns argv into one of its calls and an error into one line and an exit status.

Standard library only, so it runs with any Python 3.9+ before any venv exists.
State, caches and logs live in .stack/ so that `down` and `status` work from
another process.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python stack/stackctl.py`: its folder's siblings import as `stack.*`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import supervisor  # noqa: E402
from stack.addresses import StackError, milvus_log_level, ports, span_counts, tail_sampling  # noqa: E402

COMMANDS = {"up": supervisor.up, "down": supervisor.down, "status": supervisor.status, "rotate": supervisor.rotate}


def main(argv: list[str]) -> int:
    try:
        ports()  # every STACK_*_PORT, whatever the command: a bad one is named before anything runs
        tail_sampling(), span_counts(), milvus_log_level()  # the same for the stack's other settings
        if len(argv) != 1 or argv[0] not in COMMANDS:
            print(f"usage: python stack/stackctl.py {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
            return 2
        return COMMANDS[argv[0]]() or 0
    except StackError as error:
        print(f"stack: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stack: interrupted; `python stack/stackctl.py down` stops what was started", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
