"""Runs the Milvus standalone binary of PyPI's `milvus` package on its usual ports.

Started by stackctl.py with the Python of the venv that has `milvus` installed:
`python milvus_standalone.py DATA_DIR`.

The package's own `milvus-server` command tests each port by binding it without
SO_REUSEADDR. For a minute after a restart the old connections sit in TIME_WAIT,
that test fails, and it silently moves Milvus to the next port (health on 9092,
say). Milvus itself (Go) binds with SO_REUSEADDR, so the same test is done here
that way, and the client port is fixed: a port really taken fails the start.
"""

import socket
import sys

from milvus import MilvusServer, MilvusServerConfig

MILVUS_PORT = 19530
HEALTH_PORT = 9091


class StablePortsConfig(MilvusServerConfig):
    def try_bind_port(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            return None


def main(data_dir: str) -> int:
    server = MilvusServer(StablePortsConfig(data_dir=data_dir, proxy_port=MILVUS_PORT), wait_for_started=False)
    server.start()
    if server.webservice_port != HEALTH_PORT:
        print(f"port {HEALTH_PORT} is taken: Milvus's health endpoint moved to {server.webservice_port}", file=sys.stderr)
        server.stop()
        return 1
    print(f"Milvus standalone (pid {server.server_proc.pid}) on port {MILVUS_PORT}, health on {HEALTH_PORT}", flush=True)
    return server.server_proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
