// Command grpc-otel runs the scenario traced by the OpenTelemetry Go SDK and
// gRPC-Go's own OpenTelemetry plugin, google.golang.org/grpc/stats/opentelemetry
// (gRFC A72 tracing).
package main

import (
	"context"
	"os"

	"github.com/example/milvus-otel-demo/go/internal/demo"
	"github.com/example/milvus-otel-demo/go/internal/telemetry"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	experimental "google.golang.org/grpc/experimental/opentelemetry"
	"google.golang.org/grpc/stats/opentelemetry"
)

func main() {
	os.Exit(demo.Main("grpc-otel", setup))
}

func setup(ctx context.Context, o demo.SetupOptions) (demo.Tracing, error) {
	tp, err := telemetry.NewTracerProvider(ctx, o.ServiceName)
	if err != nil {
		return demo.Tracing{}, err
	}
	// Milvus 2.3.5 reads W3C traceparent; the plugin's own grpc-trace-bin is unknown to it.
	propagator := propagation.TraceContext{}
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	return demo.Tracing{
		Provider:    tp,
		DialOptions: []grpc.DialOption{instrument(tp, propagator)},
		Shutdown:    tp.Shutdown,
	}, nil
}

// instrument is gRPC-Go's OpenTelemetry plugin with tracing on: a CLIENT span
// per call (Sent.<service>.<method>) and, as its child, one span per attempt
// (Attempt.<service>.<method>), whose context the propagator injects.
func instrument(tp trace.TracerProvider, propagator propagation.TextMapPropagator) grpc.DialOption {
	return opentelemetry.DialOption(opentelemetry.Options{
		TraceOptions: experimental.TraceOptions{TracerProvider: tp, TextMapPropagator: propagator},
		// Only the metrics handler records the method for the attempt span: without
		// it, every attempt span is named "Attempt." (grpc-go#9097, grpc <= v1.85.0).
		// A no-op meter provider turns it on and records nothing.
		MetricsOptions: opentelemetry.MetricsOptions{MeterProvider: metricnoop.NewMeterProvider()},
	})
}
