package demo;

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
        approach = Harness.approach(approach);
        RunRecord record = new RunRecord(LANGUAGE, approach,
                env("OTEL_SERVICE_NAME", "milvus-client-" + LANGUAGE + "-" + approach), Harness.runRecord());
        try {
            Harness harness = Harness.fromEnv();
            ScenarioData data = ScenarioData.load(Harness.scenarioFile(), LANGUAGE, approach);
            MilvusSteps milvus = new MilvusSteps(
                    env("MILVUS_URI", "http://127.0.0.1:19530"), System.getenv("MILVUS_TOKEN"), data);
            new Scenario(milvus, data, harness).run(record);
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
