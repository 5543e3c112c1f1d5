"""The cluster stack's installs, each done once and kept under STATE_DIR: etcd from Debian
(`apt-get download etcd-server`, unpacked, never installed as a service that would start
on etcd's default port), Kafka's jars from Maven Central (kafka/pom.xml), and the Milvus
binary of PyPI's `milvus` package, unpacked where the standalone wrapper unpacks it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from stack.addresses import CLUSTER_DIR, MILVUS_DATA, STACK_DIR, StackError
from stack.installs import INSTALL_TIMEOUT_S, ensure_milvus_installed
from stack.processes import run_step

ETCD_PACKAGE = "etcd-server"  # Debian bookworm: 3.4.23
ETCD_DIR = CLUSTER_DIR / "etcd-package"
ETCD_BIN = ETCD_DIR / "usr" / "bin" / "etcd"
KAFKA_POM = STACK_DIR / "kafka" / "pom.xml"
KAFKA_LIBS = CLUSTER_DIR / "kafka-libs"


def _apt_has_candidate(package: str) -> bool:
    out = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True, timeout=60).stdout
    return "Candidate:" in out and "Candidate: (none)" not in out


def ensure_etcd() -> Path:
    if ETCD_BIN.exists():
        return ETCD_BIN
    if not shutil.which("apt-get"):
        raise StackError(f"STACK_MILVUS_MODE=cluster takes etcd from Debian's {ETCD_PACKAGE}, but apt-get is not on PATH")
    if not _apt_has_candidate(ETCD_PACKAGE):  # a fresh machine's package lists are empty
        run_step("updating apt's package lists", ["apt-get", "update", "-q"], INSTALL_TIMEOUT_S)
    download = CLUSTER_DIR / "downloads"
    shutil.rmtree(download, ignore_errors=True)
    download.mkdir(parents=True)
    run_step(f"downloading {ETCD_PACKAGE} with apt-get", ["apt-get", "download", "-q", ETCD_PACKAGE], INSTALL_TIMEOUT_S, cwd=download)
    debs = sorted(download.glob(f"{ETCD_PACKAGE}_*.deb"))
    if not debs:
        raise StackError(f"apt-get download {ETCD_PACKAGE} left no .deb in {download}")
    run_step(f"unpacking {debs[0].name}", ["dpkg-deb", "-x", debs[0], ETCD_DIR], 120)
    shutil.rmtree(download)
    if not ETCD_BIN.exists():
        raise StackError(f"{debs[0].name} holds no {ETCD_BIN.relative_to(ETCD_DIR)}")
    return ETCD_BIN


def ensure_kafka() -> str:
    """The broker's Java classpath, its jars resolved again only when the pom changed."""
    digest = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()
    stamp = KAFKA_LIBS / "pom.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return f"{KAFKA_LIBS}/*"
    for tool in ("java", "mvn"):
        if not shutil.which(tool):
            raise StackError(f"STACK_MILVUS_MODE=cluster runs Kafka with Java 17+ and resolves it with Maven, but `{tool}` is not on PATH")
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
    run_step(
        "resolving Kafka's jars from Maven Central",
        ["mvn", "-q", "-B", "-f", KAFKA_POM, "dependency:copy-dependencies", f"-DoutputDirectory={KAFKA_LIBS}", "-DincludeScope=runtime"],
        INSTALL_TIMEOUT_S,
    )
    stamp.write_text(digest)
    return f"{KAFKA_LIBS}/*"


def ensure_milvus_binary(configs: Path) -> Path:
    """The `milvus` binary's folder (its libraries beside it), from the venv's package, and
    the package's glog.conf in `configs` (the C++ side exits without it)."""
    python = ensure_milvus_installed()
    code = (  # the package's own unpacking
        "import os, shutil, sys, milvus; milvus._initialize_data_files(sys.argv[1]); "
        "shutil.copy(os.path.join(os.path.dirname(milvus.__file__), 'data', 'glog.conf'), sys.argv[2])"
    )
    configs.mkdir(parents=True, exist_ok=True)
    run_step("unpacking the Milvus binary", [python, "-c", code, MILVUS_DATA, configs], 300)
    return MILVUS_DATA / "bin"
