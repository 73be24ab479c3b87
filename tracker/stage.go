package tracker

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/runstatus"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Stage is one stage of a run: a child span of the run span, or of the stage
// it was started in.
//
// A Stage is safe for concurrent use. Only its first End counts: later calls
// do nothing. The zero Stage, and the Stage that StartStage returns after
// Finalize, is a no-op.
type Stage struct {
	run     *Run
	span    trace.Span
	name    string
	attempt *runstatus.Attempt // guarded by run.mu
	ended   bool               // guarded by run.mu
	started time.Time          // for the stage histogram; zero when it records nothing
	scope   scope              // what the stage's context holds; in the Stage to spare an allocation
	inputs  []runfile.File     // Input's files; guarded by run.mu
	outputs []string           // Output's paths, recorded at End; guarded by run.mu
}

// Name returns the stage's name.
func (s *Stage) Name() string { return s.name }

// SpanContext returns the stage span's span context; invalid for a no-op
// Stage.
func (s *Stage) SpanContext() trace.SpanContext {
	if s.span == nil {
		return trace.SpanContext{}
	}
	return s.span.SpanContext()
}

// End ends the stage. data, any JSON-encodable value or nil, is what the
// stage produced: it is recorded whole in the run file, and its top-level
// scalar keys also become span attributes (stage_tracker.data.<key>) to
// search for in a tracing backend; for a small flat map of scalars those
// attributes are all the span carries of it (docs/attributes.md). Data
// that cannot be encoded (a channel, a
// func, NaN) is recorded as null with the reason in the stage's data_error.
//
// A non-nil err marks the stage failed: the span status is Error with err's
// message, an exception event records it, and the run file's error is the
// message.
func (s *Stage) End(data any, err error) {
	s.end(data, err, "", "")
}

// endPanic records a panic recovered from the stage's function.
func (s *Stage) endPanic(v any) {
	s.end(nil, panicError{v}, "", string(debug.Stack()))
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// end ends the stage once. status, when not empty, is recorded as the
// stage's status (keys.StatusUnfinished); stack is a panic's stack.
func (s *Stage) end(data any, err error, status, stack string) {
	r := s.run
	if r == nil {
		return
	}
	r.mu.Lock()
	if s.ended {
		r.mu.Unlock()
		return
	}
	s.ended = true
	if open := r.open[s.name]; len(open) == 1 && open[0] == s {
		// Emptied, not deleted: the next stage of that name reuses it.
		open[0] = nil
		r.open[s.name] = open[:0]
	} else if i := slices.Index(open, s); i >= 0 {
		r.open[s.name] = slices.Delete(open, i, i+1)
	}
	r.ended++
	switch {
	case err != nil:
		r.attempts.Fail(s.attempt, err.Error())
	case status == keys.StatusUnfinished:
		r.attempts.Fail(s.attempt, "did not finish")
	}
	inputs, outputs := s.inputs, s.outputs
	r.inflight.Add(1) // Finalize waits for this span to end before the run's
	r.mu.Unlock()
	defer r.inflight.Done()

	if s.span.IsRecording() {
		// Most important first: the SDK's count limit keeps the earliest.
		data, rerr := r.tracker.redact.apply(data)
		pooled := r.tracker.attrPool.Get().(*[]attribute.KeyValue)
		attrs := (*pooled)[:0]
		if status != "" {
			attrs = append(attrs, attribute.String(keys.StageStatus, status))
		}
		var errType string
		if err != nil {
			errType = errorType(err)
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		attrs, encoded := dataAttributes(attrs, data, r.tracker.cfg.maxDataSize, &r.tracker.dataKeys)
		if rerr != nil {
			// Marked, not passed on: see ErrNotRedactable.
			attrs = append(attrs, attribute.String(keys.StageDataError, "data "+strings.TrimPrefix(rerr.Error(), "tracker: value ")))
		}
		if stack != "" {
			attrs = append(attrs, attribute.String(keys.StageStack, stack))
		}
		if inputs != nil || outputs != nil {
			attrs = r.tracker.fileAttrs(attrs, inputs, outputs)
		}
		if encoded != nil {
			attrs = appendScalars(attrs, data, encoded, &r.tracker.dataKeys)
		}
		// The semantic conventions' names last: the exporter needs only
		// ours, so under a count limit these go first.
		attrs = append(attrs, semconv.CICDPipelineTaskName(s.name),
			semconv.CICDPipelineTaskRunID(s.scope.stage.String()), taskRunResult(err, errType, status))
		s.span.SetAttributes(attrs...) // copies them: the slice goes back
		clear(attrs)
		*pooled = attrs[:0]
		r.tracker.attrPool.Put(pooled)
		if err != nil {
			s.span.RecordError(err, trace.WithStackTrace(stack != ""))
			s.span.SetStatus(codes.Error, err.Error())
		}
	}
	s.span.End(r.endOptions()...)
	r.metrics.recordStage(r.name, s.name, s.started, err != nil || status != "")
}

// taskRunResult is the stage's cicd.pipeline.task.run.result: timeout or
// cancellation when the error says so (its error.type), failure for any
// other error, cancellation for a stage that Finalize ended, else success.
func taskRunResult(err error, errType, status string) attribute.KeyValue {
	switch {
	case err == nil && status == keys.StatusUnfinished:
		return semconv.CICDPipelineTaskRunResultCancellation
	case err == nil:
		return semconv.CICDPipelineTaskRunResultSuccess
	case errType == "timeout":
		return semconv.CICDPipelineTaskRunResultTimeout
	case errType == "canceled":
		return semconv.CICDPipelineTaskRunResultCancellation
	}
	return semconv.CICDPipelineTaskRunResultFailure
}
