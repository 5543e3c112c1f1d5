package demo

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

const (
	language            = "go"
	defaultMilvusURI    = "http://127.0.0.1:19530"
	defaultScenarioPath = "../conformance/scenario.json" // relative to the go folder, where the client runs
	defaultPause        = 10 * time.Second
)

// errMalformedURI does not quote the value: a URI with user:password@ in it would print the password.
var errMalformedURI = errors.New("MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. http://127.0.0.1:19530")

// Settings are what the client reads from the environment (conformance/APPROACHES.md).
type Settings struct {
	Approach     string // DEMO_APPROACH, or the approach's own name
	ServiceName  string // OTEL_SERVICE_NAME, default milvus-client-go-<approach>
	URI          string // MILVUS_URI
	Token        string // MILVUS_TOKEN, user:password: never printed, logged, recorded or put on a span
	ScenarioPath string // DEMO_SCENARIO
	RunRecord    string // DEMO_RUN_RECORD: where the record goes; empty, only printed
	// Traced is false with OTEL_SDK_DISABLED=true. The Go SDK ignores that
	// variable, so the client reads it and sets up no tracing at all.
	Traced      bool
	BenchRepeat int // DEMO_BENCH_REPEAT: how often the hot path runs after query; 0 skips it
	// BenchControl (DEMO_BENCH_CONTROL) is the folder where the hot path says "ready"
	// and finds "go" and "stop" (nox -s bench); empty, it runs BenchRepeat times at once.
	BenchControl string
	// PauseAfter (DEMO_PAUSE_AFTER) names the step after which the client
	// sleeps Pause (DEMO_PAUSE_S), so that nox -s faults can kill Milvus there.
	PauseAfter string
	Pause      time.Duration
}

// SettingsFromEnv reads the settings; approach names the caller's approach.
func SettingsFromEnv(approach string, getenv func(string) string) (Settings, error) {
	s := Settings{
		Approach:     or(getenv("DEMO_APPROACH"), approach),
		URI:          or(getenv("MILVUS_URI"), defaultMilvusURI),
		ScenarioPath: or(getenv("DEMO_SCENARIO"), defaultScenarioPath),
		Token:        getenv("MILVUS_TOKEN"),
		RunRecord:    getenv("DEMO_RUN_RECORD"),
		BenchControl: getenv("DEMO_BENCH_CONTROL"),
		PauseAfter:   getenv("DEMO_PAUSE_AFTER"),
		Pause:        defaultPause,
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
	if v := getenv("DEMO_PAUSE_S"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return s, fmt.Errorf("DEMO_PAUSE_S=%q: want seconds >= 0", v)
		}
		s.Pause = time.Duration(f * float64(time.Second))
	}
	return s, checkURI(s.URI)
}

// checkURI accepts the forms of conformance/SCENARIO.md, http(s)://host:port
// or host:port, so that a typo fails at once rather than as a connect timeout.
func checkURI(uri string) error {
	hostPort := uri
	if scheme, rest, ok := strings.Cut(uri, "://"); ok {
		if scheme != "http" && scheme != "https" {
			return errMalformedURI
		}
		hostPort = rest
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil || host == "" {
		return errMalformedURI
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errMalformedURI
	}
	return nil
}

func or(v, fallback string) string {
	if v != "" {
		return v
	}
	return fallback
}
