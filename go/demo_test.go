package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestVectorFor(t *testing.T) {
	v0 := vectorFor(0)
	if len(v0) != dim {
		t.Fatalf("len = %d, want %d", len(v0), dim)
	}
	for j, x := range v0 {
		if want := float32(float64(j) / 97); x != want {
			t.Errorf("vectorFor(0)[%d] = %v, want %v", j, x, want)
		}
	}
	// id 12: 12*8 = 96, so the sequence wraps modulo 97 after the first element.
	if v := vectorFor(12); v[0] != float32(96.0/97) || v[1] != 0 || v[2] != float32(1.0/97) {
		t.Errorf("vectorFor(12) = %v, want [96/97 0 1/97 ...]", v)
	}
}

func TestRunRecord(t *testing.T) {
	start := time.Date(2026, 11, 26, 15, 40, 0, 123_456_789, time.FixedZone("CET", 3600))
	ok := newRunRecord("milvus-client-go", "0123456789abcdef0123456789abcdef", "run", start, 1234567*time.Microsecond, nil)
	if ok.StartedAt != "2026-11-26T14:40:00.123Z" || ok.DurationS != 1.235 || ok.ExitStatus != 0 || ok.Error != nil {
		t.Errorf("successful record = %+v", ok)
	}

	failed := newRunRecord("s", "t", "r", start, time.Second, errors.New("search: want 5 hits,\n got [4]"))
	if failed.ExitStatus != 1 || failed.Error == nil || *failed.Error != "search: want 5 hits, got [4]" {
		t.Errorf("failed record = %+v", failed)
	}

	path := filepath.Join(t.TempDir(), ".runs", "go.json")
	line, err := failed.emit(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, "\n") {
		t.Errorf("printed record spans lines: %q", line)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(written, &fields); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"language", "service_name", "trace_id", "run_id", "started_at", "duration_s", "exit_status", "error"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("record has no %q: %s", key, written)
		}
	}
	if fields["language"] != "go" {
		t.Errorf("language = %v", fields["language"])
	}
}

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

func TestSettingsFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	s, err := settingsFromEnv(env(nil))
	if err != nil || s.uri != defaultMilvusURI || !s.traced || s.benchRepeat != 0 {
		t.Errorf("defaults = %+v, %v", s, err)
	}
	s, err = settingsFromEnv(env(map[string]string{"OTEL_SDK_DISABLED": " TRUE ", "DEMO_BENCH_REPEAT": "300", "MILVUS_URI": "http://m:1"}))
	if err != nil || s.uri != "http://m:1" || s.traced || s.benchRepeat != 300 {
		t.Errorf("set = %+v, %v", s, err)
	}
	for _, bad := range []string{"-1", "many", "1.5"} {
		if _, err := settingsFromEnv(env(map[string]string{"DEMO_BENCH_REPEAT": bad})); err == nil {
			t.Errorf("DEMO_BENCH_REPEAT=%s: no error", bad)
		}
	}
}
