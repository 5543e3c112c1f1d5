package demo

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	language            = "go"
	defaultMilvusURI    = "http://127.0.0.1:19530"
	defaultScenarioPath = "../conformance/scenario.json" // relative to the go folder, where the client runs
)

// Settings are what the client reads from the environment (conformance/APPROACHES.md).
type Settings struct {
	Approach     string // DEMO_APPROACH, or the approach's own name
	ServiceName  string // OTEL_SERVICE_NAME, default milvus-client-go-<approach>
	URI          string // MILVUS_URI
	ScenarioPath string // DEMO_SCENARIO
	RunRecord    string // DEMO_RUN_RECORD: where the record goes; empty, only printed
	// Traced is false with OTEL_SDK_DISABLED=true. The Go SDK ignores that
	// variable, so the client reads it and sets up no tracing at all.
	Traced      bool
	BenchRepeat int // DEMO_BENCH_REPEAT: how often the hot path runs after query; 0 skips it
}

// SettingsFromEnv reads the settings; approach names the caller's approach.
func SettingsFromEnv(approach string, getenv func(string) string) (Settings, error) {
	s := Settings{
		Approach:     or(getenv("DEMO_APPROACH"), approach),
		URI:          or(getenv("MILVUS_URI"), defaultMilvusURI),
		ScenarioPath: or(getenv("DEMO_SCENARIO"), defaultScenarioPath),
		RunRecord:    getenv("DEMO_RUN_RECORD"),
		Traced:       !strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
	}
	s.ServiceName = or(getenv("OTEL_SERVICE_NAME"), "milvus-client-"+language+"-"+s.Approach)
	if v := getenv("DEMO_BENCH_REPEAT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("DEMO_BENCH_REPEAT=%q: want a whole number >= 0", v)
		}
		s.BenchRepeat = n
	}
	return s, nil
}

func or(v, fallback string) string {
	if v != "" {
		return v
	}
	return fallback
}
