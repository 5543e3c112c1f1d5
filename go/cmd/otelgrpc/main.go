// Command otelgrpc runs the scenario traced by the OpenTelemetry Go SDK and
// the otelgrpc stats handler of opentelemetry-go-contrib.
package main

import (
	"context"
	"os"

	"github.com/example/milvus-otel-demo/go/internal/demo"
	"github.com/example/milvus-otel-demo/go/internal/telemetry"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
)

func main() {
	os.Exit(demo.Main("otelgrpc", setup))
}

func setup(ctx context.Context, o demo.SetupOptions) (demo.Tracing, error) {
	tp, err := telemetry.NewTracerProvider(ctx, o.ServiceName)
	if err != nil {
		return demo.Tracing{}, err
	}
	// otelgrpc takes the tracer provider and the propagator from the globals.
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	var options []otelgrpc.Option
	if o.NoMessageEvents {
		options = append(options, otelgrpc.WithMessageEvents()) // no kinds given: no message events at all
	}
	return demo.Tracing{
		Provider:    tp,
		DialOptions: []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(options...))},
		Shutdown:    tp.Shutdown,
	}, nil
}
