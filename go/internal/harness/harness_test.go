package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestFromEnv(t *testing.T) {
	h, err := FromEnv("grpc-otel", envOf(nil))
	if err != nil || h != (Harness{Approach: "grpc-otel", ScenarioPath: defaultScenarioPath, Pause: 10 * time.Second, LoadConcurrency: 1}) {
		t.Errorf("defaults = %+v, %v", h, err)
	}
	h, err = FromEnv("grpc-otel", envOf(map[string]string{"DEMO_APPROACH": "x", "DEMO_SCENARIO": "/s.json",
		"DEMO_RUN_RECORD": "r.json", "DEMO_BENCH_REPEAT": "300", "DEMO_BENCH_CONTROL": "/c", "DEMO_CPU_PROFILE": "/p",
		"DEMO_PAUSE_AFTER": "insert", "DEMO_PAUSE_S": "0.5", "DEMO_OTELGRPC_MESSAGE_EVENTS": "none", "DEMO_LOAD_CONCURRENCY": "16"}))
	want := Harness{Approach: "x", ScenarioPath: "/s.json", RunRecord: "r.json", BenchRepeat: 300, BenchControl: "/c",
		CPUProfile: "/p", PauseAfter: "insert", Pause: 500 * time.Millisecond, NoMessageEvents: true, LoadConcurrency: 16}
	if err != nil || h != want {
		t.Errorf("set = %+v, %v", h, err)
	}
}

// A bad value is one line, the same in every language, naming the variable, the value and the form.
func TestFromEnvBadSettings(t *testing.T) {
	for _, c := range []struct{ name, value, line string }{
		{"DEMO_BENCH_REPEAT", "abc", "DEMO_BENCH_REPEAT='abc' is not a whole number >= 0"},
		{"DEMO_BENCH_REPEAT", "-1", "DEMO_BENCH_REPEAT='-1' is not a whole number >= 0"},
		{"DEMO_BENCH_REPEAT", "+1", "DEMO_BENCH_REPEAT='+1' is not a whole number >= 0"},
		{"DEMO_BENCH_REPEAT", "1.5", "DEMO_BENCH_REPEAT='1.5' is not a whole number >= 0"},
		{"DEMO_LOAD_CONCURRENCY", "0", "DEMO_LOAD_CONCURRENCY='0' is not a whole number >= 1"},
		{"DEMO_LOAD_CONCURRENCY", "many", "DEMO_LOAD_CONCURRENCY='many' is not a whole number >= 1"},
		{"DEMO_PAUSE_S", "soon", "DEMO_PAUSE_S='soon' is not a number of seconds >= 0"},
		{"DEMO_PAUSE_S", "-1", "DEMO_PAUSE_S='-1' is not a number of seconds >= 0"},
		{"DEMO_PAUSE_S", "1e3", "DEMO_PAUSE_S='1e3' is not a number of seconds >= 0"},
	} {
		h, err := FromEnv("a", envOf(map[string]string{c.name: c.value, "DEMO_RUN_RECORD": "r.json"}))
		if !errors.As(err, new(*BadSetting)) || err.Error() != c.line {
			t.Errorf("%s=%s: %v, want %q", c.name, c.value, err, c.line)
		}
		if h.Approach != "a" || h.RunRecord != "r.json" {
			t.Errorf("%s=%s: the record's settings not read: %+v", c.name, c.value, h)
		}
	}
}

// The bench's control protocol: "ready", then nothing until "go"; "stop" ends the loop.
func TestHotPathControl(t *testing.T) {
	control := t.TempDir()
	var calls atomic.Int32
	count := Call{RPC: "Search", Do: func(context.Context) error {
		if calls.Add(1) == 3 {
			return os.WriteFile(filepath.Join(control, "stop"), nil, 0o644)
		}
		return nil
	}}
	go func() {
		for !exists(filepath.Join(control, "ready")) {
			time.Sleep(time.Millisecond)
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("%d calls before go", n)
		}
		os.WriteFile(filepath.Join(control, "go"), nil, 0o644)
	}()
	timed, _, err := Harness{BenchRepeat: 100, BenchControl: control}.HotPath(context.Background(), []Call{count})
	if err != nil || calls.Load() != 3 || len(timed["Search"]) != 3 {
		t.Errorf("calls %d, timed %v, %v", calls.Load(), timed, err)
	}
}

// With LoadConcurrency, that many loops run at once, each up to BenchRepeat times.
func TestHotPathConcurrency(t *testing.T) {
	var inFlight, most, calls atomic.Int32
	call := Call{RPC: "Search", Do: func(context.Context) error {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		calls.Add(1)
		return nil
	}}
	timed, _, err := Harness{BenchRepeat: 5, LoadConcurrency: 4}.HotPath(context.Background(), []Call{call})
	if err != nil || calls.Load() != 20 || len(timed["Search"]) != 20 || most.Load() != 4 {
		t.Errorf("calls %d, timed %d, most in flight %d, %v", calls.Load(), len(timed["Search"]), most.Load(), err)
	}
}
