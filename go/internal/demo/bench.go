package demo

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/milvus-io/milvus/client/v2/milvusclient"
)

// hotPath runs search and query repeat times each, with bench_consistency
// (Strong waits for Milvus's next time tick, ~200 ms, on every call), and
// returns each call's client-side latency in ms, and the CPU time the process
// spent meanwhile (all goroutines, the exporter's included) in ms.
func hotPath(ctx context.Context, c *milvusclient.Client, d Data, repeat int) (map[string][]float64, float64, error) {
	calls := []struct {
		rpc  string
		call func() error
	}{
		{"Search", func() error { _, err := search(ctx, c, d, d.benchConsistency); return err }},
		{"Query", func() error { _, err := query(ctx, c, d, d.benchConsistency); return err }},
	}
	latencies := map[string][]float64{}
	// For nox -s bench's profiles: DEMO_CPU_PROFILE=path writes the hot path's CPU profile there.
	if path := os.Getenv("DEMO_CPU_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	cpuStart := processCPU()
	for range repeat {
		for _, call := range calls {
			start := time.Now()
			if err := call.call(); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", call.rpc, err)
			}
			latencies[call.rpc] = append(latencies[call.rpc], float64(time.Since(start).Microseconds())/1000)
		}
	}
	return latencies, float64((processCPU() - cpuStart).Microseconds()) / 1000, nil
}

// processCPU is the user + system CPU time of the whole process so far.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
