"""The sdk approach's client in a `nox -s matrix` cell (approaches.toml): the same setup
(milvus_demo.sdk.setup), with the SDK's own id generator (MATRIX_FIX=0, out of the box) or
this project's (MATRIX_FIX=1)."""

import os
import sys

from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from w3c_level1_ids import W3CLevel1IdGenerator

from milvus_demo import sdk
from milvus_demo.run import main

if __name__ == "__main__":
    generator = W3CLevel1IdGenerator() if os.environ.get("MATRIX_FIX") == "1" else RandomIdGenerator()
    sys.exit(main("sdk", sdk.setup(generator).shutdown))
