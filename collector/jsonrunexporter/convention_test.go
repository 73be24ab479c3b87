package jsonrunexporter

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// foreignTraces is a trace of an SDK that knows nothing of stage-tracker:
// a root span and two children, one failing, with plain attributes.
func foreignTraces(run byte) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	ss.Scope().SetName("python-etl")
	base := time.Unix(1764666000, 0)
	add := func(id, parent byte, name string) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(traceID(run))
		s.SetSpanID(spanID(id))
		if parent != 0 {
			s.SetParentSpanID(spanID(parent))
		}
		s.SetName(name)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(id) * time.Second)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(id)*time.Second + time.Second)))
		return s
	}
	// Children first, as they end first.
	add(2, 1, "extract").Attributes().PutInt("rows", 3)
	load := add(3, 1, "load")
	load.Status().SetCode(ptrace.StatusCodeError)
	load.Status().SetMessage("disk full")
	add(1, 0, "nightly")
	return td
}

// run_roots: trace_root makes a run of a trace that carries no attribute of
// ours, named by its trace id spelt as a UUID, its spans' attributes as data.
func TestTraceRootRunsFromAnySDK(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.RunRoots = RunRootsTraceRoot
	cfg.LateSpanWait = 0
	exp := newExporter(t, cfg)
	ctx := context.Background()
	if err := exp.ConsumeTraces(ctx, foreignTraces(7)); err != nil {
		t.Fatal(err)
	}
	run, err := runfile.ReadFile(filepath.Join(dir, "ab000000-0000-0000-0000-000000000007.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Name != "nightly" || len(run.Stages) != 2 {
		t.Fatalf("run %q with %d stages; want nightly with 2", run.Name, len(run.Stages))
	}
	if extract, _ := run.Stages.Get("extract"); string(extract.Data) != `{"rows":3}` {
		t.Errorf("extract data = %s", extract.Data)
	}
	if load, _ := run.Stages.Get("load"); load.Error != "disk full" {
		t.Errorf("load error = %q", load.Error)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// With the default rule, the same trace is no run: nothing is written.
func TestForeignTraceIsNoRunByDefault(t *testing.T) {
	dir := t.TempDir()
	exp := newExporter(t, testConfig(dir))
	ctx := context.Background()
	if err := exp.ConsumeTraces(ctx, foreignTraces(8)); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The store of open runs (a hidden directory) holds nothing of it.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == ".openruns" })
	if len(files) != 0 || storeHas(t, dir, `"e":"end"`) {
		t.Errorf("files %v for a trace that is no run", files)
	}
}
