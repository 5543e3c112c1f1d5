package demo;

import io.milvus.v2.exception.MilvusClientException;

/** The steps of conformance/SCENARIO.md in order, each in its span. A step that throws ends the run. */
final class Scenario {
    private final Spans spans = new Spans();
    private final MilvusSteps milvus;
    private final ScenarioData data;
    private final int benchRepeat;

    Scenario(MilvusSteps milvus, ScenarioData data, int benchRepeat) {
        this.milvus = milvus;
        this.data = data;
        this.benchRepeat = benchRepeat;
    }

    /** Runs the scenario under the root span; the record gets the trace id, the traceparent and the bench. */
    void run(RunRecord record) {
        spans.root(record.runId(), () -> {
            record.traced(Spans.traceId(), Spans.traceparent());
            steps(record);
        });
    }

    private void steps(RunRecord record) {
        spans.step("connect", milvus::connect);
        if (spans.step("has_collection", milvus::hasCollection)) {
            spans.step("drop_existing", milvus::dropCollection);
        }
        spans.step("create_collection", milvus::createCollection);
        spans.step("insert", milvus::insert);
        spans.step("flush", milvus::flush);
        spans.step("create_index", milvus::createIndex);
        spans.step("load", milvus::load);
        spans.step("search", () -> milvus.search(data.consistency()));
        spans.step("query", () -> milvus.query(data.consistency()));
        if (benchRepeat > 0) {
            record.bench(spans.step("bench", () -> Bench.run(milvus, data.benchConsistency(), benchRepeat)));
        }
        spans.step("delete", milvus::delete);
        try {
            spans.step("expected_failure", milvus::describeMissingCollection);
        } catch (MilvusClientException expected) {
            // Recorded on the expected_failure span (exception event, status ERROR); the run goes on.
        }
        spans.step("drop_collection", milvus::dropCollection);
        spans.step("close", milvus::close);
    }
}
