package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

const (
	benchCallTimeout = 30 * time.Second     // one hot-path call
	benchPoll        = 2 * time.Millisecond // DEMO_BENCH_CONTROL: how often it looks for "go"
	benchGoTimeout   = 600 * time.Second    // ... and for how long
)

// Call is one call of the hot path, named after its RPC.
type Call struct {
	RPC string
	Do  func(context.Context) error
}

// Calls holds each hot-path call's start (Unix time, µs) and client-side latency (ms), per RPC.
type Calls map[string][][2]float64

// HotPath makes the calls in turn, up to BenchRepeat times (in each of
// LoadConcurrency goroutines at once), and returns each
// call's start and latency, and the CPU time the process spent meanwhile (all
// goroutines, the exporter's included) in ms. With a control folder it writes
// "ready" there, waits for "go" and stops early once "stop" appears there
// (conformance/SCENARIO.md). With CPUProfile it writes the CPU profile of
// the calls there.
//
// Each call has a deadline of its own rather than the step's: nox -s bench lets
// the hot path run for longer than a step may take, in turns with other clients.
func (h Harness) HotPath(ctx context.Context, calls []Call) (Calls, float64, error) {
	timed := Calls{}
	stop := ""
	if h.BenchControl != "" {
		stop = filepath.Join(h.BenchControl, "stop")
		if err := awaitGo(h.BenchControl, stop); err != nil {
			return nil, 0, fmt.Errorf("DEMO_BENCH_CONTROL: %w", err)
		}
	}
	if h.CPUProfile != "" {
		if f, err := os.Create(h.CPUProfile); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	cpuStart := processCPU()
	var err error
	if h.LoadConcurrency <= 1 {
		err = h.loop(ctx, calls, stop, timed)
	} else {
		err = h.inGoroutines(ctx, calls, stop, timed)
	}
	if err != nil {
		return nil, 0, err
	}
	return timed, float64((processCPU() - cpuStart).Microseconds()) / 1000, nil
}

// loop makes the calls in turn, up to BenchRepeat times, into timed.
func (h Harness) loop(ctx context.Context, calls []Call, stop string, timed Calls) error {
	for range h.BenchRepeat {
		if stop != "" && exists(stop) {
			break
		}
		for _, call := range calls {
			start := time.Now()
			if err := within(ctx, call.Do); err != nil {
				return fmt.Errorf("%s: %w", call.RPC, err)
			}
			ms := float64(time.Since(start).Microseconds()) / 1000
			timed[call.RPC] = append(timed[call.RPC], [2]float64{float64(start.UnixMicro()), ms})
		}
	}
	return nil
}

// inGoroutines runs loop in LoadConcurrency goroutines at once; the first error is the result.
func (h Harness) inGoroutines(ctx context.Context, calls []Call, stop string, timed Calls) error {
	found := make([]Calls, h.LoadConcurrency)
	errs := make([]error, h.LoadConcurrency)
	var wg sync.WaitGroup
	for i := range found {
		found[i] = Calls{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.loop(ctx, calls, stop, found[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, mine := range found {
		for rpc, c := range mine {
			timed[rpc] = append(timed[rpc], c...)
		}
	}
	return nil
}

func within(ctx context.Context, call func(context.Context) error) error {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), benchCallTimeout)
	defer cancel()
	return call(callCtx)
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
