package demo;

import io.milvus.v2.exception.MilvusClientException;
import java.util.function.Supplier;

/**
 * The steps of conformance/SCENARIO.md in order, each in its span. A step that throws ends the
 * run with one line naming it.
 */
final class Scenario {
    private final Spans spans = new Spans();
    private final MilvusSteps milvus;
    private final ScenarioData data;
    private final Harness harness;

    Scenario(MilvusSteps milvus, ScenarioData data, Harness harness) {
        this.milvus = milvus;
        this.data = data;
        this.harness = harness;
    }

    /** Runs the scenario under the root span; the record gets the trace id, the traceparent and the bench. */
    void run(RunRecord record) {
        spans.root(record.runId(), () -> {
            record.traced(Spans.traceId(), Spans.traceparent());
            steps(record);
        });
    }

    private void steps(RunRecord record) {
        step("connect", milvus::connect);
        if (step("has_collection", milvus::hasCollection)) {
            step("drop_existing", milvus::dropCollection);
        }
        step("create_collection", milvus::createCollection);
        step("insert", milvus::insert);
        step("flush", milvus::flush);
        step("create_index", milvus::createIndex);
        step("load", milvus::load);
        step("search", () -> milvus.search(data.consistency()));
        step("query", () -> milvus.query(data.consistency()));
        if (harness.benchRepeat() > 0) {
            record.bench(step("bench", () -> Bench.run(milvus, data.benchConsistency(), harness)));
        }
        step("delete", milvus::delete);
        try {
            spans.step("expected_failure", milvus::describeMissingCollection);
        } catch (MilvusClientException expected) {
            // Recorded on the expected_failure span (exception event, status ERROR); the run goes on.
        }
        harness.afterStep("expected_failure");
        step("drop_collection", milvus::dropCollection);
        step("close", milvus::close);
    }

    /** One step in its span; its failure becomes the run's, named after it. Then the harness's hook. */
    private <T> T step(String name, Supplier<T> body) {
        T result;
        try {
            result = spans.step(name, body);
        } catch (RunFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RunFailure("step " + name + " failed: " + RunFailure.oneLine(e), 1, e);
        }
        harness.afterStep(name);
        return result;
    }

    private void step(String name, Runnable body) {
        step(name, () -> {
            body.run();
            return null;
        });
    }
}
