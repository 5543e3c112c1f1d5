package demo.otel;

import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizer;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.trace.IdGenerator;

/**
 * An autoconfigure customizer, found through META-INF/services by both approaches: the agent
 * loads it as an extension (OTEL_JAVAAGENT_EXTENSIONS=<this jar>), the sdk approach's
 * AutoConfiguredOpenTelemetrySdk from the class path.
 *
 * <p>The SDK's random ids announce themselves as random, so the SDK sets the W3C
 * Trace Context level-2 "random" flag and sends {@code traceparent: 00-…-03}. Milvus 2.3's
 * Go propagator rejects flags above 02 and drops the parent. This keeps the same random ids
 * but does not claim them, so the header goes out as {@code …-01} (W3C level 1).
 */
public final class W3CLevel1IdsCustomizer implements AutoConfigurationCustomizerProvider {

    @Override
    public void customize(AutoConfigurationCustomizer autoConfiguration) {
        autoConfiguration.addTracerProviderCustomizer(
                (tracerProvider, config) -> tracerProvider.setIdGenerator(new W3CLevel1IdGenerator()));
    }

    /** {@link IdGenerator#random()}'s ids, not declared random. */
    static final class W3CLevel1IdGenerator implements IdGenerator {
        private final IdGenerator random = IdGenerator.random();

        @Override
        public String generateTraceId() {
            return random.generateTraceId();
        }

        @Override
        public String generateSpanId() {
            return random.generateSpanId();
        }

        @Override
        public boolean generatesRandomTraceIds() {
            return false;
        }
    }
}
