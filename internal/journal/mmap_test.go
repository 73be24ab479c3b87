//go:build linux || darwin || freebsd

package journal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// White-box tests of the journal's file format, where the owner's mapped
// chunks and joined processes' appended lines meet.

func testStage(i int) Stage {
	return Stage{
		Name:         fmt.Sprintf("s%d", i),
		SpanID:       [8]byte{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)},
		ParentSpanID: [8]byte{9},
		Start:        time.Unix(1746486850, int64(i)).UnixNano(),
		End:          time.Unix(1746486851, int64(i)).UnixNano(),
		Data:         fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), i%300)),
	}
}

// TestMappedJournalBesideJoinedWriters interleaves an owner writing into
// small mapped chunks with a joined process appending with write(2), and
// a joined process killed in the middle of a line, and checks that every
// ended stage reads back once and only the torn line is skipped.
func TestMappedJournalBesideJoinedWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r"+Suffix)
	owner, err := Create(path, 0o600, false)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if !owner.mapped {
		t.Fatal("the owner's journal is not mapped")
	}
	owner.chunkSize = 4096 // grow often
	ev := Event{Kind: KindRun, RunID: "r", SpanID: "0900000000000000", Name: "run"}
	if err := owner.WriteEvent(&ev); err != nil {
		t.Fatal(err)
	}
	child, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	joined := &File{path: path, f: child}
	const n = 400
	for i := range n {
		r := testStage(i)
		w := owner
		if i%3 == 0 {
			w = joined
		}
		if err := w.WriteStage(&r, false); err != nil {
			t.Fatal(err)
		}
		if i == 200 {
			// A joined process killed mid-line: then the owner's chunk
			// fills and it maps the next one after the torn bytes.
			if _, err := child.Write([]byte(`{"e":"end","t":1,"span_id":"ffff`)); err != nil {
				t.Fatal(err)
			}
			owner.cur = chunk{mem: owner.cur.mem, pos: len(owner.cur.mem)}
		}
		if err := w.WriteStage(&r, true); err != nil {
			t.Fatal(err)
		}
	}
	if !owner.Foreign() {
		t.Error("Foreign() = false: the joined lines are not seen")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	jr := NewReader(f)
	runs, ended, started := 0, map[[8]byte]int{}, 0
	for jr.Next() {
		switch ev := jr.Event(); ev.Kind {
		case KindRun:
			runs++
		case KindStart:
			started++
		case KindEnd:
			s, err := StageOf(ev)
			if err != nil {
				t.Fatal(err)
			}
			ended[s.SpanID]++
		}
	}
	if runs != 1 || len(ended) != n || started != n {
		t.Fatalf("read back %d run events, %d ended, %d started; want 1 and %d", runs, len(ended), started, n)
	}
	if len(jr.Bad()) != 1 {
		t.Errorf("skipped %v; want the torn line only", jr.Bad())
	}
	for i := range n {
		if r := testStage(i); ended[r.SpanID] != 1 {
			t.Errorf("stage %d missing", i)
		}
	}
}

// TestAppendStageIsTheEventFormat checks that the hot-path encoder writes
// the bytes that Append writes for the same start and end events: one
// format, whichever encoder wrote a line.
func TestAppendStageIsTheEventFormat(t *testing.T) {
	cases := []struct {
		name string
		s    Stage
	}{
		{"plain", testStage(3)},
		{"no parent", Stage{Name: "a", SpanID: [8]byte{1}, Start: 1e9, End: 2e9}},
		{"failed with everything", Stage{Name: "b\n\"q\"", SpanID: [8]byte{2}, ParentSpanID: [8]byte{3}, Start: 1e9 + 5, End: 2e9 + 5,
			Failed: true, Error: "boom", Status: "unfinished", DataError: "dropped", Stack: "goroutine 1\n", Host: "h", PID: 7, TimedOut: true}},
		{"pretty data", Stage{Name: "c", SpanID: [8]byte{4}, Start: 1e9, End: 2e9, Data: "{\n  \"a\": 1\n}"}},
		{"data that will not compact", Stage{Name: "d", SpanID: [8]byte{5}, Start: 1e9, End: 2e9, Data: "{\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.s
			id := fmt.Sprintf("%x", r.SpanID)
			start := Event{Kind: KindStart, T: r.Start, SpanID: id, Name: r.Name, Start: r.Start}
			end := Event{Kind: KindEnd, T: r.End, SpanID: id, Name: r.Name, Start: r.Start, End: r.End,
				Failed: r.Failed, Error: r.Error, Status: r.Status, DataError: r.DataError, Stack: r.Stack, TimedOut: r.TimedOut, PID: r.PID, Host: r.Host}
			if r.ParentSpanID != [8]byte{} {
				start.ParentSpanID = fmt.Sprintf("%x", r.ParentSpanID)
				end.ParentSpanID = start.ParentSpanID
			}
			if r.Data != "" {
				end.Data = []byte(r.Data)
			}
			if got, want := AppendStage(nil, &r, false), Append(nil, &start); !bytes.Equal(got, want) {
				t.Errorf("start event\n got %s\nwant %s", got, want)
			}
			if got, want := AppendStage(nil, &r, true), Append(nil, &end); !bytes.Equal(got, want) {
				t.Errorf("end event\n got %s\nwant %s", got, want)
			}
			if got, want := StageEvent(&r, true), end; !bytes.Equal(Append(nil, &got), Append(nil, &want)) {
				t.Errorf("StageEvent = %+v, want %+v", got, want)
			}
			if got, err := StageOf(&end); err != nil || got != r {
				t.Errorf("StageOf(end event) = %+v, %v; want %+v", got, err, r)
			}
		})
	}
}
