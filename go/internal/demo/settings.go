package demo

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

const (
	language         = "go"
	defaultMilvusURI = "http://127.0.0.1:19530"
)

// errMalformedURI does not quote the value: a URI with user:password@ in it would print the password.
var errMalformedURI = errors.New("MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. http://127.0.0.1:19530")

// Settings are what the client reads from the environment besides the
// harness's DEMO_* settings (conformance/APPROACHES.md).
type Settings struct {
	Approach    string // the approach's name (DEMO_APPROACH, read by the harness)
	ServiceName string // OTEL_SERVICE_NAME, default milvus-client-go-<approach>
	URI         string // MILVUS_URI
	Token       string // MILVUS_TOKEN, user:password: never printed, logged, recorded or put on a span
	// Traced is false with OTEL_SDK_DISABLED=true. The Go SDK ignores that
	// variable, so the client reads it and sets up no tracing at all.
	Traced bool
}

// SettingsFromEnv reads the settings of the approach named approach.
func SettingsFromEnv(approach string, getenv func(string) string) (Settings, error) {
	s := Settings{
		Approach:    approach,
		ServiceName: or(getenv("OTEL_SERVICE_NAME"), "milvus-client-"+language+"-"+approach),
		URI:         or(getenv("MILVUS_URI"), defaultMilvusURI),
		Token:       getenv("MILVUS_TOKEN"),
		Traced:      !strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
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
