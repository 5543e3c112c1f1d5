package demo.otel;

import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizer;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An autoconfigure customizer, found like w3c-level1-ids by both approaches (the agent as an
 * extension, the sdk approach on the class path): when spans cannot be exported (collector
 * down, or not answering within OTEL_EXPORTER_OTLP_TIMEOUT), one line on stderr, once per run.
 *
 * <p>The exporter's own report is a SEVERE log record with a stack trace, per failed batch. The
 * sdk approach silences it here (java.util.logging); inside the agent, whose SDK logs through
 * the agent's logger instead, the run command does
 * ({@code -Dio.opentelemetry.javaagent.slf4j.simpleLogger.log.io.opentelemetry.exporter=off}).
 */
public final class ExportWarningCustomizer implements AutoConfigurationCustomizerProvider {
    /** Held: java.util.logging keeps loggers weakly, and a collected one forgets its level. */
    private static final Logger EXPORTER_LOGS = Logger.getLogger("io.opentelemetry.exporter");

    @Override
    public void customize(AutoConfigurationCustomizer autoConfiguration) {
        EXPORTER_LOGS.setLevel(Level.OFF);
        autoConfiguration.addSpanExporterCustomizer((exporter, config) -> new WarningSpanExporter(
                exporter,
                config.getString("otel.exporter.otlp.traces.endpoint",
                        config.getString("otel.exporter.otlp.endpoint", "the OTLP endpoint"))));
    }

    /** Passes everything to the exporter; says so, once, when an export fails. */
    static final class WarningSpanExporter implements SpanExporter {
        private final SpanExporter exporter;
        private final String endpoint;
        private final AtomicBoolean warned = new AtomicBoolean();

        WarningSpanExporter(SpanExporter exporter, String endpoint) {
            this.exporter = exporter;
            this.endpoint = endpoint;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            CompletableResultCode result = exporter.export(spans);
            result.whenComplete(() -> {
                if (!result.isSuccess() && warned.compareAndSet(false, true)) {
                    Throwable cause = result.getFailureThrowable();
                    System.err.println("warning: spans were not exported to " + endpoint
                            + (cause == null ? "" : " (" + cause.getMessage() + ")")
                            + ": the run goes on, its trace is incomplete");
                }
            });
            return result;
        }

        @Override
        public CompletableResultCode flush() {
            return exporter.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return exporter.shutdown();
        }
    }
}
