package journal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/jsontest"
)

// FuzzAppendEvent checks the hand-written journal line encoder: any event,
// with data that is JSON (a writer drops data that is not) and args
// that may not be (the span attribute length limit cuts them anywhere),
// makes exactly one line of valid JSON that decodes to the same event, args
// left out when they were not JSON.
func FuzzAppendEvent(f *testing.F) {
	f.Add(journal.KindRun, int64(1746486850235518000), "af3c980c-3d22-46e8-83cd-7ff99abee586", "train", []byte(`{"epochs":2,"model":"resnet50"}`), []byte(nil), int64(0), int64(0), 27415, false, "")
	f.Add(journal.KindRun, int64(1), "x", "run", []byte(`{"epochs":2,"model":"resnet50-with-a-long-name-that-goes-past-si`), []byte(nil), int64(0), int64(0), 1, false, "")
	f.Add(journal.KindEnd, int64(-1), "5a00000000000003", "line\nbreak\xff", []byte(nil), []byte("{\n  \"rows\": [1,\n 2]\n}"), int64(math.MinInt64), int64(math.MaxInt64), 0, true, "goroutine 1 [running]:\n\tmain.go:12")
	f.Add(journal.KindStart, int64(0), "", "", []byte("null"), []byte(`"\u2028\xff"`), int64(5), int64(4), -1, false, "\x00")
	f.Fuzz(func(t *testing.T, e string, ts int64, id, name string, args, data []byte, start, end int64, pid int, failed bool, text string) {
		if !json.Valid(data) {
			data = nil // newStageRecord's guarantee
		}
		want := journal.Event{
			Kind: e, T: ts, RunID: id, TraceID: id + "t", SpanID: id, ParentSpanID: text, Name: name,
			Args: args, OutputFile: text, PID: pid, Host: text, Start: start, End: end,
			Failed: failed, Error: text, Status: name, Data: data, DataError: text, Stack: text, Level: text,
		}
		line := journal.Append([]byte("prefix\n"), &want)[len("prefix\n"):]
		if n := bytes.Count(line, []byte("\n")); n != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("Append: %d newlines, want one at the end:\n%q", n, line)
		}
		var got journal.Event
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("Append: %v:\n%q", err, line)
		}
		var d differ
		for _, f := range []struct{ name, want, got string }{
			{"e", want.Kind, got.Kind}, {"run_id", want.RunID, got.RunID}, {"trace_id", want.TraceID, got.TraceID},
			{"span_id", want.SpanID, got.SpanID}, {"parent_span_id", want.ParentSpanID, got.ParentSpanID},
			{"name", want.Name, got.Name}, {"output_file", want.OutputFile, got.OutputFile}, {"host", want.Host, got.Host},
			{"error", want.Error, got.Error}, {"status", want.Status, got.Status},
			{"data_error", want.DataError, got.DataError}, {"stack", want.Stack, got.Stack}, {"level", want.Level, got.Level},
		} {
			d.str(f.name, f.want, f.got)
		}
		for _, f := range []struct {
			name      string
			want, got int64
		}{{"t", want.T, got.T}, {"pid", int64(want.PID), int64(got.PID)}, {"start", want.Start, got.Start}, {"end", want.End, got.End}} {
			d.eq(f.name, f.want, f.got)
		}
		d.eq("failed", want.Failed, got.Failed)
		if !json.Valid(want.Args) {
			want.Args = nil
		}
		d.raw("args", want.Args, got.Args)
		d.raw("data", want.Data, got.Data)
		if d.first != "" {
			t.Fatalf("Append: the line reads back different: %s\n%q", d.first, line)
		}
	})
}

type differ struct{ first string }

func (d *differ) fail(field string, want, got any) {
	if d.first == "" {
		d.first = fmt.Sprintf("%s: want %#v, got %#v", field, want, got)
	}
}

func (d *differ) eq(field string, want, got any) {
	if want != got {
		d.fail(field, want, got)
	}
}

func (d *differ) str(field, want, got string) { d.eq(field, jsontest.Decoded(want), got) }

func (d *differ) raw(field string, want, got json.RawMessage) {
	if w, g := jsontest.Compact(want), jsontest.Compact(got); w != g {
		d.fail(field, w, g)
	}
}
