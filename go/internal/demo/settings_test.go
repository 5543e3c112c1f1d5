package demo

import (
	"errors"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestSettingsFromEnv(t *testing.T) {
	s, err := SettingsFromEnv("grpc-otel", envOf(nil))
	if err != nil || s.URI != defaultMilvusURI || !s.Traced || s.Approach != "grpc-otel" ||
		s.ServiceName != "milvus-client-go-grpc-otel" || s.Token != "" {
		t.Errorf("defaults = %+v, %v", s, err)
	}
	s, err = SettingsFromEnv("x", envOf(map[string]string{"OTEL_SDK_DISABLED": " TRUE ", "MILVUS_URI": "http://m:1",
		"OTEL_SERVICE_NAME": "svc", "MILVUS_TOKEN": "u:p"}))
	if err != nil || s.URI != "http://m:1" || s.Traced || s.Approach != "x" || s.ServiceName != "svc" || s.Token != "u:p" {
		t.Errorf("set = %+v, %v", s, err)
	}
}

func TestCheckURI(t *testing.T) {
	for _, good := range []string{"http://127.0.0.1:19530", "https://milvus.example.com:443", "localhost:19530", "[::1]:19530"} {
		if err := checkURI(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1", "http://127.0.0.1", "grpc://127.0.0.1:19530", "http://:19530",
		"127.0.0.1:port", "127.0.0.1:0", "127.0.0.1:70000", "http://127.0.0.1:19530/db", "http://root:secret@127.0.0.1:19530"} {
		err := checkURI(bad)
		if !errors.Is(err, errMalformedURI) {
			t.Errorf("%q: %v, want errMalformedURI", bad, err)
		}
	}
	// The message names the variable and the form, and never quotes the value.
	if msg := errMalformedURI.Error(); !strings.Contains(msg, "MILVUS_URI") || !strings.Contains(msg, "http(s)://host:port or host:port") {
		t.Errorf("message %q", msg)
	}
	if _, err := SettingsFromEnv("a", envOf(map[string]string{"MILVUS_URI": "http://root:secret@127.0.0.1:19530"})); !errors.Is(err, errMalformedURI) || strings.Contains(err.Error(), "secret") {
		t.Errorf("SettingsFromEnv: %v", err)
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
