package demo

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/example/milvus-otel-demo/go/internal/harness"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestRunnerSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
	ctx, root := tracer.Start(context.Background(), "root")
	r := &runner{tracer: tracer, ctx: ctx}
	nop := func(context.Context) error { return nil }
	boom := errors.New("boom")

	r.step("first", nop)
	r.expectFailure("expected_failure", func(context.Context) error { return boom })
	r.step("failing", func(context.Context) error { return boom })
	r.step("skipped", nop)
	r.final("close", nop)
	root.End()

	if r.err == nil || r.err.Error() != "failing: boom" || !errors.Is(r.err, boom) {
		t.Errorf("runner error = %v, want failing: boom", r.err)
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if s.Name() == "root" {
			continue
		}
		if s.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the root span", s.Name())
		}
		failed := s.Name() == "expected_failure" || s.Name() == "failing"
		if got := s.Status().Code == codes.Error; got != failed {
			t.Errorf("%s: status %v", s.Name(), s.Status())
		}
		if got := len(s.Events()) == 1 && s.Events()[0].Name == "exception"; got != failed {
			t.Errorf("%s: events %v", s.Name(), s.Events())
		}
	}
	if got := strings.Join(names, ","); got != "first,expected_failure,failing,close,root" {
		t.Errorf("spans = %s", got)
	}
}

func TestExpectFailureThatSucceeds(t *testing.T) {
	tracer := sdktrace.NewTracerProvider().Tracer("test")
	r := &runner{tracer: tracer, ctx: context.Background()}
	r.expectFailure("expected_failure", func(context.Context) error { return nil })
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "expected_failure: ") {
		t.Errorf("runner error = %v, want an expected_failure error", r.err)
	}
}

// The harness's pause (DEMO_PAUSE_AFTER): one line on stdout, after the named step only.
func TestRunnerPause(t *testing.T) {
	stdout := os.Stdout
	read, write, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = write
	h := harness.Harness{PauseAfter: "insert", Pause: time.Millisecond}
	r := &runner{tracer: sdktrace.NewTracerProvider().Tracer("test"), ctx: context.Background(), afterStep: h.AfterStep}
	r.step("insert", func(context.Context) error { return nil })
	r.step("flush", func(context.Context) error { return nil })
	os.Stdout = stdout
	write.Close()
	if out, _ := io.ReadAll(read); string(out) != "paused after insert\n" {
		t.Errorf("stdout = %q", out)
	}
}
