//go:build linux || darwin || freebsd

package jsonrun

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

func testStage(i int) stageRecord {
	return stageRecord{
		name:     fmt.Sprintf("s%d", i),
		spanID:   [8]byte{0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)},
		parentID: [8]byte{9},
		start:    time.Unix(1746486850, int64(i)),
		end:      time.Unix(1746486851, int64(i)),
		data:     fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), i%300)),
	}
}

// TestMappedJournalBesideJoinedWriters interleaves an owner writing into
// small mapped chunks with a joined process appending with write(2), and
// a joined process killed in the middle of a line, and checks that every
// ended stage reads back once and only the torn line is skipped.
func TestMappedJournalBesideJoinedWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r"+JournalSuffix)
	owner, err := openJournal(path, 0o600, false)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.close()
	if !owner.mapped {
		t.Fatal("the owner's journal is not mapped")
	}
	owner.chunkSize = 4096 // grow often
	ev := event{E: eventRun, RunID: "r", SpanID: "0900000000000000", Name: "run"}
	if err := owner.write(appendEvent(nil, &ev)); err != nil {
		t.Fatal(err)
	}
	child, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	joined := &journal{path: path, f: child, joined: true}
	const n = 400
	for i := range n {
		r := testStage(i)
		w := owner
		if i%3 == 0 {
			w = joined
		}
		if err := w.writeStage(&r, false); err != nil {
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
		if err := w.writeStage(&r, true); err != nil {
			t.Fatal(err)
		}
	}
	if !owner.foreign() {
		t.Error("foreign() = false: the joined lines are not seen")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	jc := readJournal(f)
	if jc.run == nil || len(jc.ended) != n || len(jc.started) != 0 {
		t.Fatalf("read back run %v, %d ended, %d running; want the run and %d ended", jc.run != nil, len(jc.ended), len(jc.started), n)
	}
	if len(jc.bad) != 1 {
		t.Errorf("skipped %v; want the torn line only", jc.bad)
	}
	seen := map[[8]byte]bool{}
	for _, s := range jc.ended {
		seen[s.spanID] = true
	}
	for i := range n {
		if r := testStage(i); !seen[r.spanID] {
			t.Errorf("stage %d missing", i)
		}
	}
}

// TestAppendStageEventIsTheEventFormat checks that the hot-path encoder
// writes the bytes that appendEvent writes for the same start and end
// events: journals stay in the format docs/reliability.md describes, and
// older readers read them.
func TestAppendStageEventIsTheEventFormat(t *testing.T) {
	cases := []struct {
		name string
		rec  stageRecord
	}{
		{"plain", testStage(3)},
		{"no parent", stageRecord{name: "a", spanID: [8]byte{1}, start: time.Unix(1, 0), end: time.Unix(2, 0)}},
		{"failed with everything", stageRecord{name: "b\n\"q\"", spanID: [8]byte{2}, parentID: [8]byte{3}, start: time.Unix(1, 5), end: time.Unix(2, 5),
			failed: true, errMsg: "boom", status: "unfinished", dataErr: "dropped", stack: "goroutine 1\n", proc: proc{host: "h", pid: 7}}},
		{"pretty data", stageRecord{name: "c", spanID: [8]byte{4}, start: time.Unix(1, 0), end: time.Unix(2, 0), data: "{\n  \"a\": 1\n}"}},
		{"data that will not compact", stageRecord{name: "d", spanID: [8]byte{5}, start: time.Unix(1, 0), end: time.Unix(2, 0), data: "{\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.rec
			start := event{E: eventStart, T: unixNano(r.start), SpanID: r.spanID.String(), Name: r.name, Start: unixNano(r.start)}
			end := event{E: eventEnd, T: unixNano(r.end), SpanID: r.spanID.String(), Name: r.name, Start: unixNano(r.start), End: unixNano(r.end),
				Failed: r.failed, Error: r.errMsg, Status: r.status, DataError: r.dataErr, Stack: r.stack, PID: r.proc.pid, Host: r.proc.host}
			if r.parentID.IsValid() {
				start.ParentSpanID, end.ParentSpanID = r.parentID.String(), r.parentID.String()
			}
			if r.data != "" {
				end.Data = []byte(r.data)
			}
			if got, want := appendStageEvent(nil, &r, false), appendEvent(nil, &start); !bytes.Equal(got, want) {
				t.Errorf("start event\n got %s\nwant %s", got, want)
			}
			if got, want := appendStageEvent(nil, &r, true), appendEvent(nil, &end); !bytes.Equal(got, want) {
				t.Errorf("end event\n got %s\nwant %s", got, want)
			}
		})
	}
}
