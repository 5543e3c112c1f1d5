"""The docker backend cannot run here (no engine), so its files are checked as data."""

from pathlib import Path

import yaml

STACK_DIR = Path(__file__).resolve().parent.parent


def load(name: str) -> dict:
    return yaml.safe_load((STACK_DIR / name).read_text())


def test_compose_services_and_ports_on_loopback():
    services = load("docker-compose.yaml")["services"]
    assert services["milvus"]["image"] == "milvusdb/milvus:v2.5.11"
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:")
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    published = {port for service in services.values() for port in service["ports"]}
    assert {p.rsplit(":", 1)[1] for p in published} == {"19530", "9091", "16686", "4317", "4318"}
    assert all(p.startswith("127.0.0.1:") for p in published)


def test_compose_milvus_is_standalone_with_embedded_etcd_and_local_storage():
    milvus = load("docker-compose.yaml")["services"]["milvus"]
    assert milvus["command"] == ["milvus", "run", "standalone"]
    assert milvus["environment"]["ETCD_USE_EMBED"] == "true"
    assert milvus["environment"]["COMMON_STORAGETYPE"] == "local"


def test_mounted_files_exist_and_milvus_traces_to_jaeger():
    milvus = load("docker-compose.yaml")["services"]["milvus"]
    mounts = dict(volume.split(":")[:2] for volume in milvus["volumes"] if volume.startswith("./"))
    for source in mounts:
        assert (STACK_DIR / source).is_file(), source
    user_yaml = next(source for source, target in mounts.items() if target == "/milvus/configs/user.yaml")
    trace = load(user_yaml)["trace"]
    assert trace["exporter"] == "otlp"
    assert trace["sampleFraction"] == 1.0
    assert trace["otlp"] == {"endpoint": "jaeger:4317", "method": "grpc", "secure": False}
    assert trace["initTimeoutSeconds"] == 10
