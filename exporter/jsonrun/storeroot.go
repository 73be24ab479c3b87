package jsonrun

import (
	"os"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// rootEvent is the store's record of a run span that arrived and waits for
// the run's late stages (journal.KindRoot), t when it arrived.
func rootEvent(root *rootRecord, runID string, t int64, host string) journal.Event {
	ev := journal.Event{
		Kind:       journal.KindRoot,
		T:          t,
		RunID:      runID,
		TraceID:    root.traceID.String(),
		SpanID:     root.spanID.String(),
		Name:       root.name,
		OutputFile: root.outputFile,
		PID:        root.proc.pid,
		Host:       root.proc.host,
		Start:      unixNano(root.start),
		End:        unixNano(root.end),
		Failed:     root.failed,
		Error:      root.errMsg,
		Status:     root.status,
		Stack:      root.stack,
		Tracker:    root.tracker,
	}
	if ev.PID == 0 && ev.Host == "" {
		ev.PID, ev.Host = os.Getpid(), host
	}
	if root.parentID.IsValid() {
		ev.ParentSpanID = root.parentID.String()
	}
	if root.args != "" {
		ev.Args = []byte(root.args)
	}
	if root.stageCount >= 0 {
		n := root.stageCount
		ev.StageCount = &n
	}
	return ev
}

// rootOfEvent rebuilds the run span that a root event records.
func rootOfEvent(ev *journal.Event) (*rootRecord, error) {
	root := &rootRecord{
		name:       ev.Name,
		start:      fromUnixNano(ev.Start),
		end:        fromUnixNano(ev.End),
		failed:     ev.Failed,
		errMsg:     ev.Error,
		status:     ev.Status,
		args:       string(ev.Args),
		argsSize:   -1,
		outputFile: ev.OutputFile,
		stageCount: -1,
		stack:      ev.Stack,
		proc:       proc{host: ev.Host, pid: ev.PID},
		tracker:    ev.Tracker,
	}
	if ev.StageCount != nil {
		root.stageCount = *ev.StageCount
	}
	var err error
	if root.spanID, err = journal.ParseSpanID(ev.SpanID); err != nil {
		return nil, err
	}
	if ev.TraceID != "" {
		if root.traceID, err = journal.ParseTraceID(ev.TraceID); err != nil {
			return nil, err
		}
	}
	if ev.ParentSpanID != "" {
		if root.parentID, err = journal.ParseSpanID(ev.ParentSpanID); err != nil {
			return nil, err
		}
	}
	return root, nil
}
