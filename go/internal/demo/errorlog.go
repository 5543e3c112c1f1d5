package demo

import (
	"fmt"
	"strings"
	"sync"
)

// errorLog is the OpenTelemetry error handler while the app runs. The SDK's
// default one logs every failed export; this one keeps the first error (usually
// the cause) and a count, so that a collector that is down costs one line.
type errorLog struct {
	mu    sync.Mutex
	first error
	count int
}

// Handle implements otel.ErrorHandler.
func (l *errorLog) Handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == nil {
		l.first = err
	}
	l.count++
}

// summary is empty when nothing went wrong, else one line.
func (l *errorLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == 0 {
		return ""
	}
	msg := strings.Join(strings.Fields(l.first.Error()), " ")
	if l.count > 1 {
		msg += fmt.Sprintf(" (and %d more)", l.count-1)
	}
	return msg
}
