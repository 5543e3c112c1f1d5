// Package harness is what the conformance tools drive in a run (conformance/SCENARIO.md):
// every DEMO_* setting, and the hooks behind them: the pause after a step
// (DEMO_PAUSE_AFTER, DEMO_PAUSE_S), the bench's hot path (DEMO_BENCH_REPEAT,
// DEMO_BENCH_CONTROL, DEMO_CPU_PROFILE, DEMO_LOAD_CONCURRENCY) and the trim of otelgrpc's message events
// (DEMO_OTELGRPC_MESSAGE_EVENTS). No other package reads a DEMO_* variable.
package harness

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

const (
	defaultScenarioPath = "../conformance/scenario.json" // relative to the go folder, where the client runs
	defaultPause        = 10 * time.Second
)

var (
	wholeNumber = regexp.MustCompile(`^[0-9]+$`)
	seconds     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// Harness is a run's DEMO_* settings.
type Harness struct {
	Approach     string // DEMO_APPROACH, or the approach's own name
	ScenarioPath string // DEMO_SCENARIO
	RunRecord    string // DEMO_RUN_RECORD: where the record goes; empty, only printed
	BenchRepeat  int    // DEMO_BENCH_REPEAT: how often the hot path runs after query; 0 skips it
	// BenchControl (DEMO_BENCH_CONTROL) is the folder where the hot path says "ready"
	// and finds "go" and "stop" (nox -s bench); empty, it runs BenchRepeat times at once.
	BenchControl string
	// LoadConcurrency (DEMO_LOAD_CONCURRENCY, nox -s load) is how many goroutines run the
	// hot path's loop at once; 1 runs it in the caller.
	LoadConcurrency int
	CPUProfile      string // DEMO_CPU_PROFILE: where the hot path's CPU profile goes (nox -s bench's profiles)
	// PauseAfter (DEMO_PAUSE_AFTER) names the step after which the client
	// sleeps Pause (DEMO_PAUSE_S), so that nox -s faults can kill Milvus there.
	PauseAfter string
	Pause      time.Duration
	// NoMessageEvents (DEMO_OTELGRPC_MESSAGE_EVENTS=none): leave out the per-message
	// span events, a trim nox -s bench measures for otelgrpc.
	NoMessageEvents bool
}

// BadSetting is a DEMO_* value the run cannot start with: a usage error, exit 2.
type BadSetting struct{ Name, Value, Want string }

func (e *BadSetting) Error() string { return fmt.Sprintf("%s='%s' is not %s", e.Name, e.Value, e.Want) }

// FromEnv reads the settings; approach names the caller's approach. On a
// *BadSetting error the other fields are still read.
func FromEnv(approach string, getenv func(string) string) (Harness, error) {
	h := Harness{
		Approach:        or(getenv("DEMO_APPROACH"), approach),
		ScenarioPath:    or(getenv("DEMO_SCENARIO"), defaultScenarioPath),
		RunRecord:       getenv("DEMO_RUN_RECORD"),
		BenchControl:    getenv("DEMO_BENCH_CONTROL"),
		CPUProfile:      getenv("DEMO_CPU_PROFILE"),
		PauseAfter:      getenv("DEMO_PAUSE_AFTER"),
		Pause:           defaultPause,
		LoadConcurrency: 1,
		NoMessageEvents: getenv("DEMO_OTELGRPC_MESSAGE_EVENTS") == "none",
	}
	if v := getenv("DEMO_BENCH_REPEAT"); v != "" {
		n, err := strconv.Atoi(v)
		if !wholeNumber.MatchString(v) || err != nil {
			return h, &BadSetting{"DEMO_BENCH_REPEAT", v, "a whole number >= 0"}
		}
		h.BenchRepeat = n
	}
	if v := getenv("DEMO_LOAD_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if !wholeNumber.MatchString(v) || err != nil || n < 1 {
			return h, &BadSetting{"DEMO_LOAD_CONCURRENCY", v, "a whole number >= 1"}
		}
		h.LoadConcurrency = n
	}
	if v := getenv("DEMO_PAUSE_S"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if !seconds.MatchString(v) || err != nil {
			return h, &BadSetting{"DEMO_PAUSE_S", v, "a number of seconds >= 0"}
		}
		h.Pause = time.Duration(f * float64(time.Second))
	}
	return h, nil
}

// AfterStep pauses after the step PauseAfter, once its span has ended: it says
// so on stdout (unbuffered in Go), which nox -s faults waits for to kill Milvus.
func (h Harness) AfterStep(name string) {
	if name == h.PauseAfter {
		fmt.Printf("paused after %s\n", name)
		time.Sleep(h.Pause)
	}
}

func or(v, fallback string) string {
	if v != "" {
		return v
	}
	return fallback
}
