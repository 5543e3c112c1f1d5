"""The stack's API as the tools call it, in their own process, on a stack never started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stack.addresses import PORT_DEFAULTS
from stack.tests.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]
CALLS = """
import json
from stack import supervisor
supervisor.down()
print(json.dumps([supervisor.healthy(), supervisor.milvus_pgid(), supervisor.last_start(), supervisor.backend()]))
"""


def test_the_api_on_a_stack_never_started(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "STACK_STATE_DIR": str(tmp_path)}
    env.update(zip(PORT_DEFAULTS, map(str, free_ports(len(PORT_DEFAULTS)))))
    result = subprocess.run([sys.executable, "-c", CALLS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    said, answers = result.stdout.splitlines()
    assert said == "[stack] stack down"
    assert json.loads(answers) == [False, None, {"jaeger": {}, "milvus": {}}, "embedded"]
