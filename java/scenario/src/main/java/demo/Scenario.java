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
    private final Bench.Plan bench;
    private final Pause pause;

    Scenario(MilvusSteps milvus, ScenarioData data, Bench.Plan bench, Pause pause) {
        this.milvus = milvus;
        this.data = data;
        this.bench = bench;
        this.pause = pause;
    }

    /**
     * DEMO_PAUSE_AFTER and DEMO_PAUSE_S: after the named step's span has ended, say so on
     * stdout and wait, so that a test can kill Milvus between two steps.
     */
    record Pause(String step, long millis) {
        void after(String done) {
            if (!done.equals(step)) {
                return;
            }
            System.out.println("paused after " + done);
            System.out.flush();
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
        if (bench.enabled()) {
            record.bench(step("bench", () -> Bench.run(milvus, data.benchConsistency(), bench)));
        }
        step("delete", milvus::delete);
        try {
            spans.step("expected_failure", milvus::describeMissingCollection);
        } catch (MilvusClientException expected) {
            // Recorded on the expected_failure span (exception event, status ERROR); the run goes on.
        }
        pause.after("expected_failure");
        step("drop_collection", milvus::dropCollection);
        step("close", milvus::close);
    }

    /** One step in its span; its failure becomes the run's, named after it. Then the pause, if it is this step's. */
    private <T> T step(String name, Supplier<T> body) {
        T result;
        try {
            result = spans.step(name, body);
        } catch (RunFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RunFailure("step " + name + " failed: " + RunFailure.oneLine(e), 1, e);
        }
        pause.after(name);
        return result;
    }

    private void step(String name, Runnable body) {
        step(name, () -> {
            body.run();
            return null;
        });
    }
}
