"""The deployment files that cannot run here (no Docker, no Kubernetes) checked by the
tools that own their formats, not by restating their values: the Compose spec's JSON
schema, Jaeger's own `jaeger validate`, and Milvus's parameter table for the Milvus
config overlays. The milvus-helm chart ships no values.schema.json, so the Helm values
are checked through the Milvus config they carry. Each check is also shown to reject
a broken copy, so that a check which accepts anything does not pass unnoticed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stack.installs import ensure_jaeger_built

STACK_DIR = Path(__file__).resolve().parent.parent
COMPOSE = STACK_DIR / "docker-compose.yaml"
JAEGER_CONFIGS = [STACK_DIR / "jaeger" / "config.yaml", STACK_DIR / "kubernetes" / "jaeger-opensearch.yaml"]
HELM_VALUES = STACK_DIR / "kubernetes" / "milvus-values.yaml"
MILVUS_PARAMS_MODULE = "github.com/milvus-io/milvus/pkg/v2"  # required by go/go.mod


def compose_errors(path: Path) -> str | None:
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)]
    result = subprocess.run(check, capture_output=True, text=True, timeout=120)
    return None if result.returncode == 0 else result.stdout + result.stderr


def jaeger_errors(path: Path) -> str | None:
    env = {"PATH": "/usr/bin:/bin", "OPENSEARCH_URL": "http://opensearch:9200"}
    validate = [ensure_jaeger_built(), "validate", "--config", path]
    result = subprocess.run(validate, capture_output=True, text=True, env=env, timeout=120)
    return None if result.returncode == 0 else result.stdout + result.stderr


def milvus_keys() -> set[str]:
    """Every key Milvus declares in its parameter table (pkg/util/paramtable), lower-cased."""
    go = STACK_DIR.parent / "go"
    subprocess.run(["go", "mod", "download", MILVUS_PARAMS_MODULE], cwd=go, check=True, timeout=600)
    where = ["go", "list", "-m", "-f", "{{.Dir}}", MILVUS_PARAMS_MODULE]
    module = subprocess.run(where, cwd=go, capture_output=True, text=True, check=True)
    sources = Path(module.stdout.strip(), "util", "paramtable").glob("*.go")
    return {key.lower() for source in sources for key in re.findall(r'Key:\s*"([^"]+)"', source.read_text())}


def leaf_keys(config: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in config.items():
        keys += leaf_keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return keys


def milvus_overlays() -> dict[str, dict]:
    """The Milvus configs we hand to Milvus: the docker backend's user.yaml, the Helm values' one."""
    helm = yaml.safe_load(HELM_VALUES.read_text())
    return {"docker/milvus.yaml": yaml.safe_load((STACK_DIR / "docker" / "milvus.yaml").read_text()),
            "kubernetes/milvus-values.yaml": yaml.safe_load(helm["extraConfigFiles"]["user.yaml"])}


def test_compose_file_follows_the_compose_spec():
    assert compose_errors(COMPOSE) is None, compose_errors(COMPOSE)


def test_compose_spec_check_rejects_a_misspelt_key(tmp_path):
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("\nservices:", "\nServices:"))
    assert "Services" in compose_errors(broken)


def test_compose_mounts_exist():
    for service in yaml.safe_load(COMPOSE.read_text())["services"].values():
        for source in (volume.split(":")[0] for volume in service.get("volumes", []) if volume.startswith("./")):
            assert (STACK_DIR / source).is_file(), source


@pytest.mark.parametrize("config", JAEGER_CONFIGS, ids=lambda path: path.name)
def test_jaeger_validates_its_config(config):
    assert jaeger_errors(config) is None, jaeger_errors(config)


def test_jaeger_validate_rejects_an_unknown_key(tmp_path):
    broken = tmp_path / "config.yaml"
    broken.write_text(JAEGER_CONFIGS[0].read_text().replace("ttl:", "tll:"))
    assert "invalid keys: tll" in jaeger_errors(broken)


def test_milvus_overlays_use_only_keys_milvus_declares():
    declared = milvus_keys()
    overlays = milvus_overlays()
    unknown = {name: [key for key in leaf_keys(config) if key.lower() not in declared] for name, config in overlays.items()}
    assert unknown == {name: [] for name in unknown}
    assert "trace.sampleFracton".lower() not in declared  # a misspelling is caught
