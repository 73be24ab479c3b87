package jsonrunexporter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// procSpan is one span of a process taking part in run runID: a stage
// (stage set), the owner's run span (count > 0 and no stage), or the
// process's count span (claim > 0).
type procSpan struct {
	id, parent byte
	stage      string
	count      int
	claim      int
}

// procTraces is one request of the process pid on host h, instrumentation
// scope scope, as it would send its spans of run runID.
func procTraces(pid int, scope string, spans ...procSpan) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("host.name", "h")
	rs.Resource().Attributes().PutInt("process.pid", int64(pid))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(scope)
	base := time.Unix(1764666000, 0)
	for _, sp := range spans {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(traceID(1))
		s.SetSpanID(spanID(sp.id))
		if sp.parent != 0 {
			s.SetParentSpanID(spanID(sp.parent))
		}
		s.SetFlags(0x101)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.id) * time.Second)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.id)*time.Second + 500*time.Millisecond)))
		switch {
		case sp.claim > 0:
			s.SetName("stage_tracker.process")
			s.Attributes().PutStr("stage_tracker.process.run_id", runID)
			s.Attributes().PutInt("stage_tracker.process.stage_count", int64(sp.claim))
		case sp.stage == "":
			s.SetName("pipeline")
			s.Attributes().PutStr("stage_tracker.run.id", runID)
			s.Attributes().PutInt("stage_tracker.run.stage_count", int64(sp.count))
		default:
			s.SetName(sp.stage)
			s.Attributes().PutStr("stage_tracker.run.id", runID)
			s.Attributes().PutStr("stage_tracker.stage.name", sp.stage)
		}
	}
	return td
}

// TestMissingStagesAcrossProcessesInTheCollector: the run of three
// producers (the tracker over gRPC, stagetrack exec joined by TRACEPARENT,
// a plain OTLP sender following the run convention), each of which tells
// how many stages it made, is incomplete when a stage of any of them is
// lost, ok when all arrive; the count span twice or first changes nothing.
// With the store of open runs (journal.enabled, the default) and without.
// On main the Collector counted only the owner's stages: a lost exec or
// sender stage left the file saying ok.
func TestMissingStagesAcrossProcessesInTheCollector(t *testing.T) {
	var (
		root    = procTraces(100, tracker, procSpan{id: 1, count: 2})
		owner   = procTraces(100, tracker, procSpan{id: 2, parent: 1, stage: "build"}, procSpan{id: 9, parent: 1, stage: "test"})
		exec    = procTraces(200, tracker, procSpan{id: 3, parent: 2, stage: "compile"})
		execN   = procTraces(200, tracker, procSpan{id: 4, parent: 2, claim: 1})
		sender1 = procTraces(300, "loadgen", procSpan{id: 5, parent: 1, stage: "shard"})
		sender2 = procTraces(300, "loadgen", procSpan{id: 6, parent: 1, stage: "shard"}, procSpan{id: 7, parent: 1, stage: "reduce"})
		senderN = procTraces(300, "loadgen", procSpan{id: 8, parent: 1, claim: 3})
	)
	all := []ptrace.Traces{owner, exec, execN, sender1, sender2, senderN, root}
	for _, store := range []bool{true, false} {
		cfgOf := func(dir string) *Config {
			cfg := testConfig(dir)
			cfg.Journal.Enabled = store
			return cfg
		}
		want := func() []byte {
			dir := t.TempDir()
			exp := newExporter(t, cfgOf(dir))
			for _, td := range all {
				if err := exp.ConsumeTraces(t.Context(), td); err != nil {
					t.Fatal(err)
				}
			}
			if err := exp.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, runID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}()
		for _, tc := range []struct {
			name        string
			requests    []ptrace.Traces
			wantMissing int
			wantSame    bool
		}{
			{"all there", all, 0, true},
			{"the exec step's stage lost", []ptrace.Traces{owner, execN, sender1, sender2, senderN, root}, 1, false},
			{"a sender's request lost", []ptrace.Traces{owner, exec, execN, sender2, senderN, root}, 1, false},
			{"counts twice and first", []ptrace.Traces{senderN, execN, owner, exec, execN, sender1, sender2, senderN, root}, 0, true},
			{"the exec step's and a sender's stages lost", []ptrace.Traces{owner, execN, sender1, senderN, root}, 3, false},
		} {
			name := tc.name
			if store {
				name += ", store"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				exp := newExporter(t, cfgOf(dir))
				ctx := context.Background()
				for _, td := range tc.requests {
					if err := exp.ConsumeTraces(ctx, td); err != nil {
						t.Fatal(err)
					}
				}
				if err := exp.Shutdown(ctx); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, runID+".json")
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				run, err := runfile.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				wantStatus := runfile.StatusOK
				if tc.wantMissing > 0 {
					wantStatus = runfile.StatusIncomplete
				}
				if run.Status != wantStatus || run.MissingStages != tc.wantMissing || len(run.ProcessCounts) != 2 {
					t.Errorf("status %s, missing_stages %d, %d process counts; want %s, %d, 2\n%s", run.Status, run.MissingStages, len(run.ProcessCounts), wantStatus, tc.wantMissing, got)
				}
				if tc.wantSame && !bytes.Equal(got, want) {
					t.Errorf("file:\n%s\nwant the file of every request once:\n%s", got, want)
				}
			})
		}
	}
}
