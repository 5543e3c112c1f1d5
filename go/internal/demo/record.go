package demo

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/milvus-otel-demo/go/internal/harness"
)

// runRecord is the run record of conformance/SCENARIO.md.
type runRecord struct {
	Language    string  `json:"language"`
	Approach    string  `json:"approach"`
	ServiceName string  `json:"service_name"`
	TraceID     string  `json:"trace_id"`
	Traceparent string  `json:"traceparent"`
	RunID       string  `json:"run_id"`
	StartedAt   string  `json:"started_at"`
	DurationS   float64 `json:"duration_s"`
	ExitStatus  int     `json:"exit_status"`
	Error       *string `json:"error"`
	// Bench holds the hot path's calls ("Search", "Query"): [start µs, latency ms] each,
	// only when DEMO_BENCH_REPEAT is set.
	Bench harness.Calls `json:"bench,omitempty"`
	// BenchCPUMs is the process's CPU time during the hot path, in ms.
	BenchCPUMs float64 `json:"bench_cpu_ms,omitempty"`
}

func newRunRecord(s Settings, traceID, runID string, start time.Time, elapsed time.Duration, runErr error) runRecord {
	rec := runRecord{
		Language:    language,
		Approach:    s.Approach,
		ServiceName: s.ServiceName,
		TraceID:     traceID,
		RunID:       runID,
		StartedAt:   start.UTC().Format("2006-01-02T15:04:05.000Z"),
		DurationS:   math.Round(elapsed.Seconds()*1000) / 1000,
	}
	if runErr != nil {
		msg := strings.Join(strings.Fields(runErr.Error()), " ") // one line
		rec.ExitStatus = 1
		rec.Error = &msg
	}
	return rec
}

// emit writes the record to path (when not empty) and returns it as one JSON line.
func (rec runRecord) emit(path string) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	if path != "" {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.WriteFile(path, append(b, '\n'), 0o644)
		}
	}
	return string(b), err
}
