"""The semantic-conventions classifier (conformance/semconv) on recorded spans of both RPC
generations, and the generator's reading of the conventions' package."""

from __future__ import annotations

import copy

import pytest

from conformance.checks import Subject
from conformance.semconv import classify, generate
from conformance.semconv.classify import NOT_IN
from conformance.tests.test_checks import SCENARIO, recorded, run_of

RULES = classify.load()


def client_spans(name: str, payload: dict | None = None):
    return Subject(run_of(name, payload), SCENARIO).client_rpc_spans()


def test_rules_are_the_pinned_release_and_name_only_current_attributes():
    assert RULES["release"] == generate.RELEASE
    generate.check_spans(RULES["attributes"])


@pytest.mark.parametrize(
    "key,expected",
    [
        ("rpc.method", {"class": "stable"}),
        ("server.address", {"class": "stable"}),
        ("thread.name", {"class": "experimental"}),
        ("rpc.system", {"class": "deprecated", "replaced_by": ["rpc.system.name"]}),
        ("rpc.grpc.status_code", {"class": "deprecated", "replaced_by": ["rpc.status_code"]}),
        # A template: the Java agent's captured metadata, one attribute per header.
        ("rpc.grpc.request.metadata.authorization", {"class": "deprecated", "replaced_by": ["rpc.request.header."]}),
        ("grpc.error_name", {"class": NOT_IN}),
    ],
)
def test_an_attribute_is_classified_from_the_release(key, expected):
    found = classify.attribute(RULES, key)
    assert {k: found[k] for k in expected} == expected


def test_old_generation_names_each_deprecated_attribute_with_its_replacement():
    result = classify.classify(client_spans("go-otelgrpc"))
    assert result["release"] == "1.45.0" and result["generation"] == "old"
    assert result["deprecated"] == {
        "net.sock.peer.addr": ["network.peer.address"],
        "net.sock.peer.port": ["network.peer.port"],
        "rpc.grpc.status_code": ["rpc.status_code"],
        "rpc.service": ["rpc.method"],
        "rpc.system": ["rpc.system.name"],
    }
    assert result["method_form"] == "bare"
    assert result["span_name"]["example_off"] is None  # the name is service/Method already
    assert result["missing"]["required"] == ["rpc.system.name", "rpc.status_code", "server.address"]
    assert result["span_kind"] == {"expected": "client", "seen": ["client"]}


def test_stable_generation_still_carries_one_attribute_1_45_0_deprecates():
    # otelgrpc v0.72.0 writes semantic conventions 1.43.0; 1.45.0 renamed its status attribute.
    result = classify.classify(client_spans("go-otelgrpc-stable"))
    assert result["generation"] == "stable" and result["method_form"] == "fully qualified"
    assert result["deprecated"] == {"rpc.response.status_code": ["rpc.status_code"]}
    assert result["attributes"]["rpc.response.status_code"]["role"] == "status"
    assert result["missing"] == {"required": ["rpc.status_code"], "recommended": ["network.peer.address", "network.peer.port"]}
    assert result["span_name"]["example_off"] is None


def test_dup_generation_carries_both_system_attributes():
    result = classify.classify(client_spans("go-otelgrpc-dup"))
    assert result["generation"] == "both"
    assert result["attributes"]["rpc.system.name"]["class"] == "stable"
    assert result["deprecated"]["rpc.system"] == ["rpc.system.name"] and result["deprecated"]["rpc.service"] == ["rpc.method"]


def test_java_agent_is_old_rpc_with_stable_network_attributes():
    result = classify.classify(client_spans("java-agent"))
    assert result["generation"] == "old"
    assert {key for key, a in result["attributes"].items() if a["role"] == "network" and a["class"] == "stable"} == {
        "network.peer.address", "network.peer.port", "network.type", "server.address", "server.port"}
    assert result["missing"] == {"required": ["rpc.system.name", "rpc.status_code"], "recommended": []}


def test_milvus_server_spans_get_the_same_reading():
    from conformance.spans import server_child

    subject = Subject(run_of("python-sdk"), SCENARIO)
    servers = [s for call in subject.contract_client_spans() if (s := server_child(SCENARIO, call))]
    result = classify.classify(servers, "server")
    assert result["rule"] == "span.rpc.grpc.call.server" and result["span_kind"]["seen"] == ["server"]
    assert result["generation"] == "old" and "rpc.service" in result["deprecated"]


def test_a_name_off_the_rule_is_shown_with_the_name_the_rule_wants():
    result = classify.classify(client_spans("python-sdk"))
    assert result["span_name"]["following"] == 0
    off = result["span_name"]["example_off"]
    assert off["name"] == "/" + off["expected"] and off["expected"].startswith("milvus.proto.milvus.MilvusService/")
    assert result["span_name"]["forms"] == ["/{rpc.service}/{rpc.method}"]


def test_a72_spans_carry_no_generation():
    result = classify.classify(client_spans("go-grpc-otel"))
    assert result["generation"] == "none" and result["attributes"] == {}
    assert "rpc.method" in result["missing"]["required"]


def test_an_attribute_the_conventions_do_not_know_is_said_so_and_nothing_else():
    payload = copy.deepcopy(recorded("go-otelgrpc.trace.json"))
    for span in payload["data"][0]["spans"]:
        span["tags"].append({"key": "milvus.collection", "type": "string", "value": "otel_demo_go"})
    result = classify.classify(client_spans("go-otelgrpc", payload))
    assert result["attributes"]["milvus.collection"]["class"] == NOT_IN
    assert result["attributes"]["milvus.collection"]["role"] is None
    assert "milvus.collection" not in result["deprecated"]


def test_a_missing_required_attribute_is_named():
    payload = copy.deepcopy(recorded("java-agent.trace.json"))
    for span in payload["data"][0]["spans"]:
        span["tags"] = [t for t in span["tags"] if t["key"] != "server.address"]
    assert "server.address" in classify.classify(client_spans("java-agent", payload))["missing"]["required"]


DTS = '''/**
 * The system.
 */
declare const ATTR_RPC_SYSTEM_NAME: "rpc.system.name";
/**
 * Old one.
 *
 * @experimental This attribute is experimental.
 *
 * @deprecated Replaced by `rpc.system.name`.
 */
declare const ATTR_RPC_SYSTEM: "rpc.system";
/**
 * @deprecated Replaced by `rpc.request.header`.
 */
declare const ATTR_RPC_REQUEST_METADATA: (key: string) => string;
/**
 * @experimental Headers.
 */
declare const ATTR_RPC_REQUEST_HEADER: (key: string) => string;
'''
CJS = "const ATTR_RPC_REQUEST_METADATA = (key) => `rpc.request.metadata.${key}`;\nconst ATTR_RPC_REQUEST_HEADER = (key) => `rpc.request.header.${key}`;\n"


def test_the_generator_reads_stability_deprecation_and_templates(tmp_path):
    stable, experimental = DTS.split("/**\n * Old one.")
    (tmp_path / "stable_attributes.d.cts").write_text(stable)
    (tmp_path / "stable_attributes.cjs").write_text("")
    (tmp_path / "experimental_attributes.d.cts").write_text("/**\n * Old one." + experimental)
    (tmp_path / "experimental_attributes.cjs").write_text(CJS)
    assert generate.attributes(tmp_path) == {
        "rpc.system.name": {"stability": "stable"},
        "rpc.system": {"stability": "experimental", "deprecated": "Replaced by `rpc.system.name`.", "replaced_by": ["rpc.system.name"]},
        "rpc.request.metadata.": {"stability": "experimental", "deprecated": "Replaced by `rpc.request.header`.", "replaced_by": ["rpc.request.header."]},
        "rpc.request.header.": {"stability": "experimental"},
    }


def test_span_rules_naming_a_deprecated_attribute_are_refused(monkeypatch):
    monkeypatch.setitem(generate.SPANS["client"], "required", ["rpc.system"])
    with pytest.raises(generate.GenerateError, match="span.rpc.grpc.call.client required: rpc.system is deprecated"):
        generate.check_spans(RULES["attributes"])
