"""`nox -s logs -- <trace id>`: Milvus's log lines of one trace, in time order (the
embedded stack's log files, the docker stack's container log; conformance/milvus_log.py).

    python -m conformance.logs <trace id>"""

from __future__ import annotations

import argparse
import os
import sys

from conformance.milvus_log import LogUnavailable, check_trace_id, lines_of
from stack.addresses import StackError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nox -s logs --", description=__doc__.split("\n\n")[0])
    parser.add_argument("trace_id", help="32 lowercase hex digits, e.g. a run record's trace_id")
    args = parser.parse_args(argv)
    try:
        lines = lines_of([check_trace_id(args.trace_id)])[args.trace_id]
    except (ValueError, LogUnavailable, StackError) as error:
        print(f"logs: error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ValueError) else 1
    try:
        for line in lines:
            print(line)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(f"[logs] {len(lines)} line(s) of Milvus's log carry traceID={args.trace_id}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
