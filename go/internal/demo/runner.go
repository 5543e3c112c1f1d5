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
	tracer    trace.Tracer
	ctx       context.Context
	err       error
	afterStep func(name string) // the harness's hook once a step's span has ended; may be nil
}

// step runs fn in a span named name, unless an earlier step failed.
func (r *runner) step(name string, fn func(context.Context) error) {
	if r.err != nil {
		return
	}
	if err := r.traced(name, fn); err != nil {
		if errors.As(err, new(told)) {
			r.err = err
		} else {
			r.err = fmt.Errorf("%s: %w", name, err)
		}
	}
}

// told is a failure already said in one line for the user: a step that fails
// with it makes it the run's error as it is, without the step's name.
type told string

func (t told) Error() string { return string(t) }

// final runs fn even after a failure, so that resources are released.
func (r *runner) final(name string, fn func(context.Context) error) {
	err := r.traced(name, fn)
	switch {
	case err == nil:
	case r.err == nil:
		r.err = fmt.Errorf("%s: %w", name, err)
	default: // the run has failed already: this one is only worth a log line
		log.Printf("%s: %v", name, err)
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
	} else {
		log.Printf("%s: failed as expected: %v", name, err)
	}
}

// traced runs fn in a span named name and records its error there. The
// error is logged by the caller: a failed step once, as the run's error.
// Once the span has ended, the harness may act (pause).
func (r *runner) traced(name string, fn func(context.Context) error) error {
	ctx, span := r.tracer.Start(r.ctx, name)
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	err := fn(ctx)
	cancel()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		log.Printf("%s: ok", name)
	}
	span.End()
	if r.afterStep != nil {
		r.afterStep(name)
	}
	return err
}
