package demo

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/example/milvus-otel-demo/go/internal/harness"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
)

// shutdownTimeout caps the final flush, so a collector that is down delays
// the exit by seconds, not minutes. Each export is bounded by the SDK's own
// OTEL_EXPORTER_OTLP_TIMEOUT / OTEL_BSP_EXPORT_TIMEOUT.
const shutdownTimeout = 5 * time.Second

// Tracing is what an approach hands to the scenario.
type Tracing struct {
	Provider    trace.TracerProvider        // makes the root and step spans
	DialOptions []grpc.DialOption           // instrument the Milvus client's gRPC calls
	Shutdown    func(context.Context) error // flushes the spans before the exit; may be nil
}

// SetupOptions are what an approach's setup is given.
type SetupOptions struct {
	ServiceName string
	// NoMessageEvents asks the instrumentation to leave out its per-message span
	// events; one that has no such choice ignores it.
	NoMessageEvents bool
}

// Setup is an approach's tracing setup. It also sets the global propagator:
// the record's traceparent is what it writes.
type Setup func(ctx context.Context, o SetupOptions) (Tracing, error)

// Main runs the scenario traced by setup, prints the run record and returns
// the exit status. approach is the approach's name, unless DEMO_APPROACH says
// otherwise. With OTEL_SDK_DISABLED=true, setup is not called.
func Main(approach string, setup Setup) int {
	start := time.Now()
	runID := uuid.NewString()
	ctx := context.Background()

	h, harnessErr := harness.FromEnv(approach, os.Getenv)
	s, err := SettingsFromEnv(h.Approach, os.Getenv)
	if harnessErr != nil {
		err = harnessErr // said first, as in every language
	}
	if err != nil {
		// A malformed setting is a usage error: exit 2, before connecting.
		rec := newRunRecord(s, "", runID, start, time.Since(start), err)
		rec.ExitStatus = 2
		return finish(rec, h.RunRecord)
	}
	d, err := LoadData(h.ScenarioPath, s.Approach)
	if err != nil {
		return finish(newRunRecord(s, "", runID, start, time.Since(start), err), h.RunRecord)
	}

	// Telemetry never breaks the app: its errors end up in one warning line.
	exportErrs := &errorLog{}
	tr := Tracing{Provider: noop.NewTracerProvider()}
	if s.Traced {
		otel.SetErrorHandler(exportErrs)
		if t, err := setup(ctx, SetupOptions{ServiceName: s.ServiceName, NoMessageEvents: h.NoMessageEvents}); err != nil {
			warn("setup failed, running untraced: %v", err)
		} else {
			tr = t
		}
	}

	tracer := tr.Provider.Tracer("github.com/example/milvus-otel-demo/go")
	rootCtx, root := tracer.Start(ctx, "milvus-otel-demo", trace.WithAttributes(attribute.String("demo.run_id", runID)))
	// The header the gRPC calls carry (with their own span ids), for the conformance suite's diagnostics.
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(rootCtx, carrier)
	r := &runner{tracer: tracer, ctx: rootCtx, afterStep: h.AfterStep}
	bench, benchCPU := runScenario(r, d, s, h, tr.DialOptions)
	if r.err != nil {
		root.SetStatus(codes.Error, r.err.Error())
	}
	root.End()
	elapsed := time.Since(start)

	if tr.Shutdown != nil {
		shutdown(tr.Shutdown, exportErrs)
	}
	rec := newRunRecord(s, root.SpanContext().TraceID().String(), runID, start, elapsed, r.err)
	rec.Traceparent = carrier.Get("traceparent")
	rec.Bench, rec.BenchCPUMs = bench, benchCPU
	return finish(rec, h.RunRecord)
}

// shutdown flushes the spans (without it the last ones are lost), at most
// for shutdownTimeout, and turns any export trouble into one warning line.
func shutdown(fn func(context.Context) error, exportErrs *errorLog) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		exportErrs.Handle(fmt.Errorf("shutdown: %w", err))
	}
	if msg := exportErrs.summary(); msg != "" {
		warn("some spans were not exported: %s (shutdown took %.1fs)", msg, time.Since(start).Seconds())
	}
}

func warn(format string, args ...any) {
	log.Printf("warning: telemetry: "+format, args...)
}

// finish writes the run record, prints it as the last stdout line and
// returns the exit status.
func finish(rec runRecord, path string) int {
	line, err := rec.emit(path)
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
