package demo

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunRecord(t *testing.T) {
	s := Settings{Approach: "grpc-otel", ServiceName: "milvus-client-go-grpc-otel"}
	start := time.Date(2026, 11, 26, 15, 40, 0, 123_456_789, time.FixedZone("CET", 3600))
	ok := newRunRecord(s, "0123456789abcdef0123456789abcdef", "run", start, 1234567*time.Microsecond, nil)
	if ok.StartedAt != "2026-11-26T14:40:00.123Z" || ok.DurationS != 1.235 || ok.ExitStatus != 0 || ok.Error != nil {
		t.Errorf("successful record = %+v", ok)
	}

	failed := newRunRecord(s, "t", "r", start, time.Second, errors.New("search: want 5 hits,\n got [4]"))
	if failed.ExitStatus != 1 || failed.Error == nil || *failed.Error != "search: want 5 hits, got [4]" {
		t.Errorf("failed record = %+v", failed)
	}

	path := filepath.Join(t.TempDir(), ".runs", "go-grpc-otel.json")
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
	for _, key := range []string{"language", "approach", "service_name", "trace_id", "traceparent", "run_id", "started_at", "duration_s", "exit_status", "error"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("record has no %q: %s", key, written)
		}
	}
	if fields["language"] != "go" || fields["approach"] != "grpc-otel" || fields["service_name"] != "milvus-client-go-grpc-otel" {
		t.Errorf("record = %s", written)
	}
}
