package jsonrun

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Spans of other instrumentation scopes (another language's SDK, a library)
// say less than the tracker's: the convention fills a stage's name, error
// and stack from the span itself and the OpenTelemetry semantic
// conventions for errors. The tracker's own spans always carry what these
// fall back from, and keep being read as before.

// The semantic conventions' error attributes and event.
const (
	semconvErrorType        = attribute.Key("error.type")
	semconvExceptionEvent   = "exception"
	semconvExceptionMessage = attribute.Key("exception.message")
	semconvExceptionStack   = attribute.Key("exception.stacktrace")
)

// conventionFields fills what a span of another scope left out: the name
// from the span's name, the error message of a failed span, and the stack
// from its last exception event.
func conventionFields(r *stageRecord, s sdktrace.ReadOnlySpan) {
	if r.name == "" {
		r.name = s.Name()
	}
	msg, stack := lastException(s.Events())
	if r.stack == "" {
		r.stack = stack
	}
	if r.failed {
		r.errMsg = errorMessage(s, msg)
	}
}

// errorMessage is a failed span's error: the status description, else the
// last exception's message, else error.type, else "error".
func errorMessage(s sdktrace.ReadOnlySpan, exceptionMsg string) string {
	if st := s.Status(); st.Code == codes.Error && st.Description != "" {
		return st.Description
	}
	if exceptionMsg != "" {
		return exceptionMsg
	}
	for _, kv := range s.Attributes() {
		if kv.Key == semconvErrorType {
			if v := kv.Value.String(); v != "" {
				return v
			}
		}
	}
	return "error"
}

// lastException returns the message and stack trace of the last exception
// event, the one that ended the span.
func lastException(events []sdktrace.Event) (msg, stack string) {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Name != semconvExceptionEvent {
			continue
		}
		for _, kv := range events[i].Attributes {
			switch kv.Key {
			case semconvExceptionMessage:
				msg = kv.Value.String()
			case semconvExceptionStack:
				stack = kv.Value.String()
			}
		}
		return msg, stack
	}
	return "", ""
}
