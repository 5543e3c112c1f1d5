"""Runs the Milvus standalone binary of PyPI's `milvus` package on its usual ports.

Started by backends/embedded.py with the Python of the venv that has `milvus` installed:
`python milvus_standalone.py DATA_DIR`.

The package's own `milvus-server` command tests each port by binding it without
SO_REUSEADDR. For a minute after a restart the old connections sit in TIME_WAIT,
that test fails, and it silently moves Milvus to the next port (health on 9092,
say). Milvus itself (Go) binds with SO_REUSEADDR, so the same test is done here
that way, and the client port is fixed: a port really taken fails the start.

Ports come from the STACK_*_PORT variables (addresses.py). The client, health and etcd
ports are fixed; Milvus's internal gRPC ports (the template's other `*_port` keys:
root/query/data/index coordinators and nodes, the proxy's internal port) are left to
the package, which takes the first free one from each default, so a second stack
moves them by itself. The embedded etcd's own listen URLs are not in the template:
they come from an etcd config file (ETCD_CONFIG_PATH), else etcd's 2379/2380.
"""

import os
import socket
import sys
from pathlib import Path

from milvus import MilvusServer, MilvusServerConfig

MILVUS_PORT = int(os.environ["STACK_MILVUS_PORT"])
HEALTH_PORT = int(os.environ["STACK_MILVUS_HEALTH_PORT"])
ETCD_PORT = int(os.environ["STACK_ETCD_PORT"])
ETCD_PEER_PORT = int(os.environ["STACK_ETCD_PEER_PORT"])


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


def write_etcd_config(data_dir: str) -> Path:
    """etcd's own defaults (member `default` on localhost), on our two ports."""
    client, peer = f"http://localhost:{ETCD_PORT}", f"http://localhost:{ETCD_PEER_PORT}"
    path = Path(data_dir) / "embedEtcd.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"listen-client-urls: {client}\nadvertise-client-urls: {client}\n"
        f"listen-peer-urls: {peer}\ninitial-advertise-peer-urls: {peer}\ninitial-cluster: default={peer}\n"
    )
    return path


def main(data_dir: str) -> int:
    os.environ["ETCD_CONFIG_PATH"] = str(write_etcd_config(data_dir))  # the package passes os.environ on
    config = StablePortsConfig(data_dir=data_dir, proxy_port=MILVUS_PORT, etcd_port=ETCD_PORT)
    # Authorization on: every client logs in (stack/milvus_auth.py makes its user). Template
    # values other than ports and data_dir are taken only through set().
    config.set("authorization_enabled", True)
    server = MilvusServer(config, wait_for_started=False)
    server.webservice_port = HEALTH_PORT  # where start() looks first for the health port
    server.start()
    if server.webservice_port != HEALTH_PORT:
        print(f"port {HEALTH_PORT} is taken: Milvus's health endpoint moved to {server.webservice_port}", file=sys.stderr)
        server.stop()
        return 1
    print(f"Milvus standalone (pid {server.server_proc.pid}) on port {MILVUS_PORT}, health on {HEALTH_PORT}", flush=True)
    return server.server_proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
