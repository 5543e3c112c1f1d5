package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Milvus refuses a wrong MILVUS_TOKEN, or none, with UNAUTHENTICATED: the run says which,
// in the line every language prints, and never quotes the token.
func TestCredentialsRefused(t *testing.T) {
	const token = "root:s3cret-pw"
	unauthenticated := status.Error(codes.Unauthenticated, "auth check failure, please check username and password are correct")
	cases := []struct {
		err   error
		token string
		want  error
		line  string
	}{
		{unauthenticated, token, errTokenRefused, "Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token"},
		{fmt.Errorf("connect: %w", unauthenticated), token, errTokenRefused, "Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token"},
		{status.Error(codes.Unauthenticated, "missing authorization in header"), "", errTokenMissing, "Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token"},
		{status.Error(codes.Unavailable, "connection refused"), token, nil, ""},
		{status.Error(codes.PermissionDenied, "no privilege"), token, nil, ""},
		{errors.New("context deadline exceeded"), "", nil, ""},
		{nil, token, nil, ""},
	}
	for _, c := range cases {
		got := credentialsRefused(c.err, c.token)
		if got != c.want {
			t.Errorf("credentialsRefused(%v, token set %t) = %v, want %v", c.err, c.token != "", got, c.want)
			continue
		}
		if got != nil && (got.Error() != c.line || strings.Contains(got.Error(), "s3cret")) {
			t.Errorf("line %q, want %q", got, c.line)
		}
	}
}

// A told error is the run's error as it is; any other is prefixed by its step.
func TestRunnerToldError(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errTokenRefused, errTokenRefused.Error()},
		{errors.New("boom"), "connect: boom"},
	} {
		r := &runner{tracer: sdktrace.NewTracerProvider().Tracer("test"), ctx: context.Background()}
		r.step("connect", func(context.Context) error { return c.err })
		if r.err == nil || r.err.Error() != c.want || !errors.Is(r.err, c.err) {
			t.Errorf("runner error = %v, want %s", r.err, c.want)
		}
	}
}
