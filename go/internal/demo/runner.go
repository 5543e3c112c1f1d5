package demo

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// stepTimeout bounds each step, so a stuck server fails the run instead of hanging it.
const stepTimeout = 2 * time.Minute

// runner runs the scenario's steps as child spans of the root span in ctx,
// remembering the first failure.
type runner struct {
	tracer trace.Tracer
	ctx    context.Context
	err    error
}

// step runs fn in a span named name, unless an earlier step failed.
func (r *runner) step(name string, fn func(context.Context) error) {
	if r.err != nil {
		return
	}
	if err := r.traced(name, fn); err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
}

// final runs fn even after a failure, so that resources are released.
func (r *runner) final(name string, fn func(context.Context) error) {
	if err := r.traced(name, fn); err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
}

// expectFailure runs a step whose call must fail: its error is recorded on
// the span and the run goes on. A call that succeeds fails the run.
func (r *runner) expectFailure(name string, fn func(context.Context) error) {
	if r.err != nil {
		return
	}
	if err := r.traced(name, fn); err == nil {
		r.err = fmt.Errorf("%s: %w", name, errors.New("the call succeeded but should have failed"))
	}
}

// traced runs fn in a span named name and records its error there.
func (r *runner) traced(name string, fn func(context.Context) error) error {
	ctx, span := r.tracer.Start(r.ctx, name)
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()

	err := fn(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		log.Printf("%s: %v", name, err)
	} else {
		log.Printf("%s: ok", name)
	}
	return err
}
