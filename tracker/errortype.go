package tracker

import (
	"context"
	"errors"
	"os/exec"
	"strings"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Values of error.type that the tracker sets itself.
const (
	// ErrorTypePanic is the error.type of a stage whose function panicked.
	ErrorTypePanic = "panic"
	// ErrorTypeExitStatus is the error.type of a stage that failed because a
	// command it ran exited non-zero or was killed (an *exec.ExitError).
	ErrorTypeExitStatus = "exit_status"
	// ErrorTypeTimeout is the error.type of context.DeadlineExceeded.
	ErrorTypeTimeout = "timeout"
	// ErrorTypeCanceled is the error.type of context.Canceled.
	ErrorTypeCanceled = "canceled"
)

// errorType is the error.type attribute of a failed stage, following the
// semantic conventions (semconv.ErrorType): a low-cardinality name, never
// the message. In order: a panic; the ErrorType() string method of any error
// in err's chain; an *exec.ExitError, a deadline or a cancellation anywhere
// in the chain; the package-qualified type name of err once fmt.Errorf
// wrappers are removed. Errors with no useful type (errors.New,
// fmt.Errorf without %w, errors.Join) are "_OTHER", as the conventions
// say for a type that cannot be told.
func errorType(err error) string {
	if _, ok := err.(panicError); ok {
		return ErrorTypePanic
	}
	var et interface{ ErrorType() string }
	if errors.As(err, &et) {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ErrorTypeExitStatus
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return ErrorTypeCanceled
	}
	s := semconv.ErrorType(err).Value.AsString()
	if strings.HasPrefix(s, "*errors.") || strings.HasPrefix(s, "*fmt.") || !strings.Contains(s, ".") {
		return semconv.ErrorTypeOther.Value.AsString()
	}
	return s
}
