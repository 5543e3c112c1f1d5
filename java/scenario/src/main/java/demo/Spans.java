package demo;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The root and step spans, made through the OpenTelemetry API on whatever implements it:
 * the agent's bridge, the SDK the sdk approach registers globally, or the API's no-op.
 */
final class Spans {
    static final String ROOT = "milvus-otel-demo";
    /** The instrumentation scope of the root and step spans. */
    static final String SCOPE = "milvus-otel-demo";

    private final Tracer tracer = GlobalOpenTelemetry.getTracer(SCOPE);

    /** The root span (kind INTERNAL, attribute demo.run_id) around body. */
    void root(String runId, Runnable body) {
        inSpan(tracer.spanBuilder(ROOT).setAttribute("demo.run_id", runId).startSpan(), () -> {
            body.run();
            return null;
        });
    }

    /** One span named after the step (kind INTERNAL), the current span while body runs. */
    <T> T step(String name, Supplier<T> body) {
        return inSpan(tracer.spanBuilder(name).startSpan(), body);
    }

    void step(String name, Runnable body) {
        step(name, () -> {
            body.run();
            return null;
        });
    }

    /** An exception that leaves body is recorded on the span (an exception event, status ERROR) and rethrown. */
    private static <T> T inSpan(Span span, Supplier<T> body) {
        try (Scope ignored = span.makeCurrent()) {
            return body.get();
        } catch (RuntimeException | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    /** The current trace id: all zeros when nothing records spans. */
    static String traceId() {
        return Span.current().getSpanContext().getTraceId();
    }

    /** What the global propagator injects for the current span (the header the gRPC calls carry); null untraced. */
    static String traceparent() {
        Map<String, String> headers = new LinkedHashMap<>();
        GlobalOpenTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), headers, Map::put);
        return headers.get("traceparent");
    }
}
