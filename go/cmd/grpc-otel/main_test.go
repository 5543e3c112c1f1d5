package main

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
)

// The plugin's span shape, against an in-process health server: the server
// must see a traceparent naming the attempt span, a child of the call span.
func TestInstrumentSpans(t *testing.T) {
	lis := bufconn.Listen(1 << 20)
	var traceparent string
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if v := metadata.ValueFromIncomingContext(ctx, "traceparent"); len(v) == 1 {
			traceparent = v[0]
		}
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		instrument(tp, propagation.TraceContext{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	call, attempt := spans["Sent.grpc.health.v1.Health.Check"], spans["Attempt.grpc.health.v1.Health.Check"]
	if call == nil || attempt == nil || len(spans) != 2 {
		t.Fatalf("spans = %v", spans)
	}
	if call.SpanKind() != trace.SpanKindClient || attempt.SpanKind() != trace.SpanKindInternal {
		t.Errorf("kinds: call %v, attempt %v", call.SpanKind(), attempt.SpanKind())
	}
	if attempt.Parent().SpanID() != call.SpanContext().SpanID() {
		t.Errorf("the attempt span is not a child of the call span")
	}
	want := "00-" + attempt.SpanContext().TraceID().String() + "-" + attempt.SpanContext().SpanID().String() + "-01"
	if traceparent != want {
		t.Errorf("traceparent = %q, want the attempt span's %q", traceparent, want)
	}
	if n := len(call.Attributes()); n != 0 {
		t.Errorf("call span attributes: %v", call.Attributes())
	}
}
