package demo.sdk;

import demo.DemoRun;

/**
 * Approach "sdk": the OpenTelemetry SDK set up by autoconfigure (OTEL_* only) and the gRPC
 * library instrumentation, installed before the scenario opens its Milvus client and shut
 * down (flushing the exporter) after it. OTEL_SDK_DISABLED=true sets up nothing.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        SdkTracing tracing = SdkTracing.start();
        int exitStatus = 1;
        try {
            exitStatus = DemoRun.run("sdk");
        } finally {
            tracing.shutdown();
        }
        System.exit(exitStatus);
    }
}
