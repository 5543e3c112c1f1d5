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
            MilvusSteps milvus = new MilvusSteps(
                    env("MILVUS_URI", "http://127.0.0.1:19530"), System.getenv("MILVUS_TOKEN"), data);
            Scenario.Pause pause = new Scenario.Pause(
                    env("DEMO_PAUSE_AFTER", ""), Math.round(Double.parseDouble(env("DEMO_PAUSE_S", "10")) * 1000));
            Bench.Plan bench = new Bench.Plan(
                    Integer.parseInt(env("DEMO_BENCH_REPEAT", "0")), env("DEMO_BENCH_CONTROL", ""));
            new Scenario(milvus, data, bench, pause).run(record);
        } catch (RunFailure e) {
            record.failed(e.getMessage(), e.exitStatus());
        } catch (Exception e) {
            record.failed("run failed: " + RunFailure.oneLine(e), 1);
        }
        return record.finish();
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
