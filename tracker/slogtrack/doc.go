// Package slogtrack correlates log/slog records with stage-tracker runs.
//
// Handler wraps any slog.Handler. A record logged with a context that is
// inside a run (see tracker.RunFromContext) gets the run's id and, inside a
// stage, the stage's name; a record logged with a context that holds a
// valid span gets its trace and span id, so that a log line leads to the
// trace in Jaeger and back:
//
//	run_id    the run's id, as in the run file
//	stage     the innermost stage's name
//	trace_id  32 hex digits
//	span_id   16 hex digits
//
// The keys are added at the top level of the record, outside any group that
// WithGroup opened, so that a log search finds them in one place.
//
// With WithSpanEvents, records at or above a level are also recorded as
// events of the span in the context (the stage's span inside a stage), named
// by the record's message and carrying its level and attributes: warnings and
// errors then show in the trace next to the stage that logged them.
package slogtrack
