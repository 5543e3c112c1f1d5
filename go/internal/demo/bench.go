package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/milvus-io/milvus/client/v2/milvusclient"
)

const (
	benchCallTimeout = 30 * time.Second     // one hot-path call
	benchPoll        = 2 * time.Millisecond // DEMO_BENCH_CONTROL: how often it looks for "go"
	benchGoTimeout   = 600 * time.Second    // ... and for how long
)

// benchCalls holds each hot-path call's start (Unix time, µs) and client-side latency (ms), per RPC.
type benchCalls map[string][][2]float64

// hotPath runs search and query up to repeat times each, with bench_consistency
// (Strong waits for Milvus's next time tick, ~200 ms, on every call), and
// returns each call's start and latency, and the CPU time the process spent
// meanwhile (all goroutines, the exporter's included) in ms. With a control
// folder (DEMO_BENCH_CONTROL) it writes "ready" there, waits for "go" and stops
// early once "stop" appears there (conformance/SCENARIO.md).
//
// Each call has a deadline of its own rather than the step's: nox -s bench lets
// the hot path run for longer than a step may take, in turns with other clients.
func hotPath(ctx context.Context, c *milvusclient.Client, d Data, repeat int, control string) (benchCalls, float64, error) {
	within := func(call func(context.Context) error) func() error {
		return func() error {
			callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), benchCallTimeout)
			defer cancel()
			return call(callCtx)
		}
	}
	calls := []struct {
		rpc  string
		call func() error
	}{
		{"Search", within(func(ctx context.Context) error { _, err := search(ctx, c, d, d.benchConsistency); return err })},
		{"Query", within(func(ctx context.Context) error { _, err := query(ctx, c, d, d.benchConsistency); return err })},
	}
	timed := benchCalls{}
	stop := ""
	if control != "" {
		stop = filepath.Join(control, "stop")
		if err := awaitGo(control, stop); err != nil {
			return nil, 0, fmt.Errorf("DEMO_BENCH_CONTROL: %w", err)
		}
	}
	// For nox -s bench's profiles: DEMO_CPU_PROFILE=path writes the hot path's CPU profile there.
	if path := os.Getenv("DEMO_CPU_PROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	cpuStart := processCPU()
	for range repeat {
		if stop != "" && exists(stop) {
			break
		}
		for _, call := range calls {
			start := time.Now()
			if err := call.call(); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", call.rpc, err)
			}
			ms := float64(time.Since(start).Microseconds()) / 1000
			timed[call.rpc] = append(timed[call.rpc], [2]float64{float64(start.UnixMicro()), ms})
		}
	}
	return timed, float64((processCPU() - cpuStart).Microseconds()) / 1000, nil
}

// awaitGo says "ready" in the control folder and waits until "go" or "stop" is there.
func awaitGo(control, stop string) error {
	if err := os.WriteFile(filepath.Join(control, "ready"), nil, 0o644); err != nil {
		return err
	}
	deadline := time.Now().Add(benchGoTimeout)
	for !exists(filepath.Join(control, "go")) && !exists(stop) {
		if time.Now().After(deadline) {
			return fmt.Errorf("no go in %s within %v", control, benchGoTimeout)
		}
		time.Sleep(benchPoll)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// processCPU is the user + system CPU time of the whole process so far.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
