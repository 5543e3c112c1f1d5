package demo.sdk;

import io.grpc.ClientInterceptor;
import io.grpc.InternalGlobalInterceptors;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sdk approach's whole tracing setup.
 *
 * <ol>
 *   <li>The SDK from {@code opentelemetry-sdk-extension-autoconfigure}, configured only by
 *       OTEL_* (exporter, service name, propagators),
 *       registered as the global OpenTelemetry, which the scenario's spans use. Autoconfigure
 *       also loads {@code demo.otel.W3CLevel1IdsCustomizer} (w3c-level1-ids, the agent's
 *       extension) from the class path: traceparent flags 01.</li>
 *   <li>{@code GrpcTelemetry}'s client interceptor (opentelemetry-grpc-1.6) as a grpc-java
 *       global interceptor: every channel built afterwards, milvus-sdk-java's included, gets
 *       it. milvus-sdk-java has no interceptor hook of its own.</li>
 * </ol>
 *
 * <p>OTEL_SDK_DISABLED=true (or {@code -Dotel.sdk.disabled=true}) installs nothing: the API
 * stays its no-op. Autoconfigure's own "disabled" SDK is not one: it is an
 * {@code OpenTelemetrySdk} with a default {@code SdkTracerProvider} (no processors, but real
 * spans with random ids, and the customizers not applied), so the interceptor would still send
 * {@code traceparent: 00-…-03} and the record would get a real trace id.
 *
 * <p>Telemetry never breaks the app: a failure here is one line on stderr and the run goes on.
 */
final class SdkTracing {
    private final OpenTelemetrySdk sdk;

    private SdkTracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
    }

    static SdkTracing start() {
        if (disabled()) {
            GlobalOpenTelemetry.set(OpenTelemetry.noop()); // said once, so the API does not look for autoconfigure
            return new SdkTracing(null);
        }
        OpenTelemetrySdk sdk = null;
        try {
            sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .setResultAsGlobal()
                    .disableShutdownHook() // shutdown() below, before System.exit
                    .build()
                    .getOpenTelemetrySdk();
            ClientInterceptor grpc = GrpcTelemetry.create(sdk).createClientInterceptor();
            // Settable once, before the first channel is built (grpc-java's own rule).
            InternalGlobalInterceptors.setInterceptorsTracers(List.of(grpc), List.of(), List.of());
        } catch (RuntimeException | LinkageError e) {
            System.err.println("milvus-otel-demo: tracing setup failed (the run goes on): " + e);
        }
        return new SdkTracing(sdk);
    }

    private static boolean disabled() {
        String value = System.getProperty("otel.sdk.disabled", System.getenv("OTEL_SDK_DISABLED"));
        return value != null && value.trim().equalsIgnoreCase("true");
    }

    /** Ends the spans' journey: flushes the batch span processor and shuts the exporter down. */
    void shutdown() {
        if (sdk == null) {
            return;
        }
        try {
            sdk.shutdown().join(10, TimeUnit.SECONDS);
        } catch (RuntimeException e) {
            System.err.println("milvus-otel-demo: tracing shutdown failed: " + e);
        }
    }
}
