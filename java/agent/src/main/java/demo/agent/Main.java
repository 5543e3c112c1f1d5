package demo.agent;

import demo.DemoRun;

/**
 * Approach "agent": no tracing setup at all. Run with
 * {@code -javaagent:agent/target/opentelemetry-javaagent.jar}: the agent installs the SDK as
 * the global OpenTelemetry (the scenario's root and step spans go through its API bridge),
 * instruments grpc-java inside milvus-sdk-java, and flushes in a JVM shutdown hook, which
 * {@code System.exit} runs. Without {@code -javaagent}, the API is its no-op: untraced.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(DemoRun.run("agent"));
    }
}
