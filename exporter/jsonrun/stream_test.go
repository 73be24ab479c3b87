package jsonrun

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
	"go.opentelemetry.io/otel/trace"
)

// TestStreamedFileSameAsAssembled checks the streamed run file (finish of
// a flat run) against the file assembled as a tree, for flat runs that
// carry every per-stage variation: repeated names, failures, statuses,
// data errors, stacks, invalid UTF-8 names, stages of other processes,
// missing stages and no stages at all.
func TestStreamedFileSameAsAssembled(t *testing.T) {
	t0 := time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)
	runSpan := trace.SpanID{0xff, 1}
	here := proc{host: "ci-1", pid: 42}
	stage := func(i int, name string, mod func(*stageRecord)) stageRecord {
		r := stageRecord{
			name:     name,
			spanID:   trace.SpanID{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)},
			parentID: runSpan,
			start:    t0.Add(time.Duration(i) * time.Millisecond),
			end:      t0.Add(time.Duration(i)*time.Millisecond + 700*time.Microsecond),
			data:     fmt.Sprintf(`{"rows":%d}`, i),
			proc:     here,
		}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	cases := []struct {
		name       string
		stages     []stageRecord
		stageCount int
	}{
		{"none", nil, 0},
		{"one", []stageRecord{stage(1, "build", nil)}, 1},
		{"repeated names", []stageRecord{stage(1, "a", nil), stage(2, "b", nil), stage(3, "a", nil), stage(4, "a", nil)}, 4},
		{"failed then retried", []stageRecord{
			stage(1, "test", func(r *stageRecord) { r.failed, r.errMsg = true, "exit status 1" }),
			stage(2, "test", nil),
		}, 2},
		{"last attempt failed", []stageRecord{
			stage(1, "deploy", nil),
			stage(2, "deploy", func(r *stageRecord) { r.failed, r.errMsg, r.stack = true, "boom", "goroutine 1" }),
		}, 2},
		{"unfinished and data error", []stageRecord{
			stage(1, "fetch", func(r *stageRecord) { r.status = StageUnfinished }),
			stage(2, "train", func(r *stageRecord) { r.data, r.dataErr = "", "data dropped" }),
		}, 2},
		{"names with a hash", []stageRecord{
			stage(1, "x", nil), stage(2, "x#1", nil), stage(3, "x", nil), stage(4, "x#1", nil), stage(5, "x#1#1", nil), stage(6, "x", nil),
		}, 6},
		{"invalid UTF-8 names", []stageRecord{stage(1, "\xff", nil), stage(2, "\xfe", nil)}, 2},
		{"other processes", []stageRecord{
			stage(1, "a", func(r *stageRecord) { r.proc = proc{host: "ci-2", pid: 7} }),
			stage(2, "b", func(r *stageRecord) { r.proc = proc{pid: 9} }),
			stage(3, "c", func(r *stageRecord) { r.proc = proc{} }),
			stage(4, "d", nil),
		}, 4},
		{"missing stages", []stageRecord{stage(1, "a", nil)}, 3},
		{"zero end time", []stageRecord{stage(1, "a", func(r *stageRecord) { r.end = time.Time{} })}, 1},
		// Three producers' requests interleave: the buffer holds the
		// stages out of start order until sortByStart.
		{"three producers interleaved", []stageRecord{
			stage(1, "s1", nil), stage(4, "s4", nil), stage(7, "s7", nil),
			stage(2, "s2", nil), stage(5, "s5", nil), stage(8, "s8", nil),
			stage(3, "s3", nil), stage(6, "s6", nil), stage(9, "s9", nil),
		}, 9},
		{"repeated names interleaved", []stageRecord{
			stage(3, "a", nil), stage(1, "a", func(r *stageRecord) { r.failed, r.errMsg = true, "exit status 1" }),
			stage(4, "b", nil), stage(2, "b", nil), stage(5, "a", nil),
		}, 5},
		{"one start, span ids out of order", []stageRecord{
			stage(2, "b", func(r *stageRecord) { r.start = t0 }), stage(1, "a", func(r *stageRecord) { r.start = t0 }),
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := &rootRecord{
				name: "pipeline", traceID: trace.TraceID{1}, spanID: runSpan,
				start: t0, end: t0.Add(time.Second), argsSize: -1, stageCount: c.stageCount, proc: here,
			}
			var b stageBuffer
			for _, s := range c.stages {
				b.add(s)
			}
			// The file assembled from the stages in arrival order.
			var want bytes.Buffer
			if err := runfile.Write(&want, assemble(root, "3f2c1e9a-8d4b-4c55-9a57-2f1d0c3b4a5e", b.all(), "")); err != nil {
				t.Fatal(err)
			}
			b.sortByStart()
			if !b.flat(runSpan) {
				t.Fatal("not flat")
			}
			run := assembleFlat(root, "3f2c1e9a-8d4b-4c55-9a57-2f1d0c3b4a5e", &b)
			var got bytes.Buffer
			if err := runfile.WriteStages(&got, run, func(sw *runfile.StageWriter) { b.writeFlatStages(sw, root.proc) }); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("streamed:\n%s\nassembled:\n%s", got.Bytes(), want.Bytes())
			}
		})
	}
}

func TestFlatRefusesWhatBuildTreeNests(t *testing.T) {
	t0 := time.Date(2025, 5, 5, 23, 14, 10, 0, time.UTC)
	rec := func(id, parent byte, name string, ms int) stageRecord {
		return stageRecord{name: name, spanID: trace.SpanID{id}, parentID: trace.SpanID{parent}, start: t0.Add(time.Duration(ms) * time.Millisecond)}
	}
	for _, c := range []struct {
		name   string
		stages []stageRecord
	}{
		{"nested", []stageRecord{rec(1, 9, "a", 1), rec(2, 1, "b", 2)}},
		{"two parents", []stageRecord{rec(1, 9, "a", 1), rec(2, 8, "b", 2)}},
		{"out of order", []stageRecord{rec(1, 9, "a", 2), rec(2, 9, "b", 1)}},
		{"loose", []stageRecord{rec(1, 9, "a", 1), func() stageRecord { s := rec(2, 9, "b", 2); s.loose = true; return s }()}},
		{"children of another span", []stageRecord{rec(1, 8, "a", 1), rec(2, 8, "b", 2)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b stageBuffer
			for _, s := range c.stages {
				b.add(s)
			}
			if b.flat(trace.SpanID{9}) {
				t.Fatal("flat")
			}
		})
	}
}
