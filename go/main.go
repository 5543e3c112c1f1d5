// Command milvus-otel-demo runs the scenario of conformance/SCENARIO.md with
// the Milvus Go client, traced with OpenTelemetry, and prints its run record.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

const (
	defaultServiceName = "milvus-client-go"
	defaultMilvusURI   = "http://127.0.0.1:19530"
	shutdownTimeout    = 10 * time.Second
)

func main() {
	os.Exit(run())
}

func run() int {
	start := time.Now()
	runID := uuid.NewString()
	ctx := context.Background()

	s, err := settingsFromEnv(os.Getenv)
	if err != nil {
		return finish(newRunRecord(defaultServiceName, "", runID, start, time.Since(start), err))
	}
	// The Go SDK does not read OTEL_SDK_DISABLED, so the app does: no SDK, no otelgrpc handler.
	var tp trace.TracerProvider = noop.NewTracerProvider()
	shutdown := func(context.Context) error { return nil }
	service := envOr("OTEL_SERVICE_NAME", defaultServiceName)
	if s.traced {
		sdkTP, res, err := newTracerProvider(ctx)
		if err != nil {
			return finish(newRunRecord(defaultServiceName, "", runID, start, time.Since(start), err))
		}
		name, _ := res.Set().Value(semconv.ServiceNameKey)
		tp, shutdown, service = sdkTP, sdkTP.Shutdown, name.AsString()
	}
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))

	tracer := tp.Tracer("github.com/example/milvus-otel-demo/go")
	rootCtx, root := tracer.Start(ctx, "milvus-otel-demo", trace.WithAttributes(attribute.String("demo.run_id", runID)))
	// The header the gRPC calls carry (with their own span ids), for the conformance suite's diagnostics.
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(rootCtx, carrier)
	r := &runner{tracer: tracer, ctx: rootCtx}
	bench, benchCPU := runScenario(r, s)
	if r.err != nil {
		root.SetStatus(codes.Error, r.err.Error())
	}
	root.End()
	elapsed := time.Since(start)

	// Shutdown flushes the batch span processor; without it the last spans are lost.
	shutdownCtx, cancel := context.WithTimeout(ctx, shutdownTimeout)
	defer cancel()
	runErr := r.err
	if err := shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("tracer provider shutdown: %w", err))
	}

	rec := newRunRecord(service, root.SpanContext().TraceID().String(), runID, start, elapsed, runErr)
	rec.Traceparent = carrier.Get("traceparent")
	rec.Bench, rec.BenchCPUMs = bench, benchCPU
	return finish(rec)
}

// settings are what the scenario reads from the environment.
type settings struct {
	uri         string
	traced      bool // false with OTEL_SDK_DISABLED=true, the untraced baseline of nox -s bench
	benchRepeat int  // DEMO_BENCH_REPEAT: how often the hot path runs after query; 0, the default, skips it
}

func settingsFromEnv(getenv func(string) string) (settings, error) {
	s := settings{
		uri:    getenv("MILVUS_URI"),
		traced: !strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
	}
	if s.uri == "" {
		s.uri = defaultMilvusURI
	}
	if v := getenv("DEMO_BENCH_REPEAT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("DEMO_BENCH_REPEAT=%q: want a whole number >= 0", v)
		}
		s.benchRepeat = n
	}
	return s, nil
}

// newTracerProvider exports spans over OTLP/gRPC, configured by the standard
// OTEL_EXPORTER_OTLP_* variables.
func newTracerProvider(ctx context.Context) (*sdktrace.TracerProvider, *resource.Resource, error) {
	exporter, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Precedence, lowest first: the SDK default (unknown_service:<exe>),
	// milvus-client-go, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(defaultServiceName)))
	if err == nil {
		res, err = resource.Merge(res, resource.Environment())
	}
	if err != nil {
		return nil, nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)), res, nil
}

// finish writes the run record, prints it as the last stdout line and
// returns the exit status.
func finish(rec runRecord) int {
	line, err := rec.emit(os.Getenv("DEMO_RUN_RECORD"))
	if err != nil {
		log.Printf("writing the run record: %v", err)
		rec.ExitStatus = 1
	}
	if rec.Error != nil {
		log.Printf("run failed: %s", *rec.Error)
	}
	fmt.Println(line)
	return rec.ExitStatus
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
