package jsonrun

import (
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// The run convention, version 1 (docs/attributes.md): which spans of any
// instrumentation scope make a run. This file holds the rules that look at
// one span on its own; routing by trace id is the exporter's.

// RunRoots says which spans, besides those that carry stage_tracker.run.id
// without stage_tracker.stage.name, are the root of a run.
type RunRoots int

const (
	// AttributeRoots: a run's root is a span, of any scope, with
	// stage_tracker.run.id and without stage_tracker.stage.name. The
	// default.
	AttributeRoots RunRoots = iota
	// TraceRoots: also the root span of every trace (a span without a
	// parent) is a run. Its run id is stage_tracker.run.id, else
	// cicd.pipeline.run.id when it is a UUID, else the trace id spelt as a
	// UUID. For exporters fed only the spans of pipelines, such as a
	// Collector pipeline behind a filter.
	TraceRoots
)

// spanRole is what a span says about itself under the convention.
type spanRole uint8

const (
	// roleNone: the span names no run. It is a stage if its trace is a
	// known run's, else it is ignored (or waits, see WithPendingSpans).
	roleNone      spanRole = iota
	roleRoot               // the root of run runID
	roleStage              // a stage that names its run: stage_tracker.run.id and a stage name
	roleTraceRoot          // a trace's root span, a run's root by the trace-root rule
	// roleBadRunID: the span's stage_tracker.run.id is not a UUID in any
	// spelling (package runid): it names no run, and is refused.
	roleBadRunID
	// roleCount: a count span (stage_tracker.process.run_id): how many
	// stages of the run its process ended (counts.go).
	roleCount
)

// semconvPipelineRunID is the semantic conventions' CI/CD run id, which the
// trace-root rule takes as the run id when it is a UUID.
const semconvPipelineRunID = attribute.Key("cicd.pipeline.run.id")

// classifyKeyLengths has bit n set when one of the keys classify looks for
// is n bytes long. Most attribute keys of other instrumentation have other
// lengths, so classify passes over them on their length alone: it is on
// the path of every span, and comparing every key with three strings was
// most of what a span that is not part of a run cost.
const classifyKeyLengths uint64 = 1<<len(keys.RunID) | 1<<len(keys.StageName) | 1<<len(semconvPipelineRunID) | 1<<len(keys.ProcessRunID)

// classify applies the convention to one span, and returns the run id in
// its canonical spelling. It is on the path of every
// span the exporter sees, so it reads the attributes once, without
// allocating.
func classify(s sdktrace.ReadOnlySpan, roots RunRoots) (runID string, role spanRole) {
	named := false
	var pipelineID, countRun string
	attrs := s.Attributes()
	for i := range attrs {
		kv := &attrs[i]
		// A shift of 64 or more is 0: longer keys are passed over too.
		if classifyKeyLengths&(1<<len(kv.Key)) == 0 {
			continue
		}
		switch kv.Key {
		case keys.RunID:
			runID = kv.Value.AsString()
		case keys.StageName:
			named = true
		case semconvPipelineRunID:
			pipelineID = kv.Value.AsString()
		case keys.ProcessRunID:
			countRun = kv.Value.AsString()
		}
	}
	if countRun != "" && !named {
		// A count span, whatever else it says: never a run's root.
		runID, role = countRun, roleCount
	}
	if runID != "" && !runid.IsCanonical(runID) {
		// Another spelling of the run's id names the same run and file.
		id, err := runid.Canonical(runID)
		if err != nil {
			return runID, roleBadRunID
		}
		runID = id
	}
	switch {
	case role == roleCount:
		return runID, roleCount
	case runID != "" && named:
		return runID, roleStage
	case runID != "":
		return runID, roleRoot
	case roots == TraceRoots && !s.Parent().IsValid() && !named:
		return traceRootRunID(s.SpanContext().TraceID(), pipelineID), roleTraceRoot
	}
	return "", roleNone
}

// traceRootRunID is the run id of a trace root that carries no
// stage_tracker.run.id: the pipeline's run id when it is a UUID, so that the
// file is found by the id a CI system shows, else the trace id.
func traceRootRunID(tid trace.TraceID, pipelineID string) string {
	if pipelineID != "" {
		if u, err := uuid.Parse(pipelineID); err == nil {
			return u.String()
		}
	}
	return uuid.UUID(tid).String()
}

// byTracker reports whether the span comes from this module's tracker,
// whose spans follow the convention's stricter form: the stage count on its
// run span counts only its own stages.
func byTracker(s sdktrace.ReadOnlySpan) bool {
	return s.InstrumentationScope().Name == keys.ScopeName
}
