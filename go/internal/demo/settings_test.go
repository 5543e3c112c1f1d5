package demo

import (
	"errors"
	"testing"
)

func TestSettingsFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	s, err := SettingsFromEnv("grpc-otel", env(nil))
	if err != nil || s.URI != defaultMilvusURI || !s.Traced || s.BenchRepeat != 0 || s.Approach != "grpc-otel" ||
		s.ServiceName != "milvus-client-go-grpc-otel" || s.ScenarioPath != defaultScenarioPath || s.RunRecord != "" {
		t.Errorf("defaults = %+v, %v", s, err)
	}
	s, err = SettingsFromEnv("grpc-otel", env(map[string]string{"OTEL_SDK_DISABLED": " TRUE ", "DEMO_BENCH_REPEAT": "300",
		"MILVUS_URI": "http://m:1", "DEMO_APPROACH": "x", "OTEL_SERVICE_NAME": "svc", "DEMO_SCENARIO": "/s.json", "DEMO_RUN_RECORD": "r.json"}))
	if err != nil || s.URI != "http://m:1" || s.Traced || s.BenchRepeat != 300 || s.Approach != "x" ||
		s.ServiceName != "svc" || s.ScenarioPath != "/s.json" || s.RunRecord != "r.json" {
		t.Errorf("set = %+v, %v", s, err)
	}
	for _, bad := range []string{"-1", "many", "1.5"} {
		if _, err := SettingsFromEnv("a", env(map[string]string{"DEMO_BENCH_REPEAT": bad})); err == nil {
			t.Errorf("DEMO_BENCH_REPEAT=%s: no error", bad)
		}
	}
}

func TestErrorLog(t *testing.T) {
	l := &errorLog{}
	if got := l.summary(); got != "" {
		t.Errorf("empty log: %q", got)
	}
	l.Handle(errors.New("traces export: connection\nrefused"))
	l.Handle(errors.New("shutdown: context deadline exceeded"))
	if got, want := l.summary(), "traces export: connection refused (and 1 more)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}
