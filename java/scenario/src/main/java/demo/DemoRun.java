package demo;

import java.nio.file.Path;

/**
 * What every approach's main runs: the scenario and its run record. It sets up no tracing:
 * the approach's main does that before (or the agent does it for it) and flushes after.
 */
public final class DemoRun {
    static final String LANGUAGE = "java";

    private DemoRun() {
    }

    /**
     * Runs the scenario once and returns the exit status: 0 only if every step but
     * expected_failure succeeded.
     *
     * @param approach the approach's name, when DEMO_APPROACH does not give it
     */
    public static int run(String approach) {
        approach = env("DEMO_APPROACH", approach);
        RunRecord record = new RunRecord(
                LANGUAGE, approach, env("OTEL_SERVICE_NAME", "milvus-client-" + LANGUAGE + "-" + approach));
        try {
            ScenarioData data = ScenarioData.load(
                    Path.of(env("DEMO_SCENARIO", "../conformance/scenario.json")), LANGUAGE, approach);
            MilvusSteps milvus = new MilvusSteps(env("MILVUS_URI", "http://127.0.0.1:19530"), data);
            new Scenario(milvus, data, Integer.parseInt(env("DEMO_BENCH_REPEAT", "0"))).run(record);
        } catch (Exception e) {
            record.failed(e);
        }
        return record.finish();
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
