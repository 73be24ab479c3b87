package jsonrun

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkJournalEvent measures what a journaled stage costs the journal
// alone, per event, white-box: encoding a stage's start or end event into
// the reused buffer and putting it in the file, into the owner's mapped
// chunk (mmap) or with one write(2) (as joined processes do; so do
// WithJournalSync, without its fsync, and platforms without mmap). The stage is
// BenchmarkStage's: 4 data keys. The start event is what lets a crash
// show a stage that was running; its cost here is the price of that.
func BenchmarkJournalEvent(b *testing.B) {
	rec := stageRecord{
		name:     "batch",
		spanID:   [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		parentID: [8]byte{8, 7, 6, 5, 4, 3, 2, 1},
		start:    time.Unix(1746486850, 235518000),
		end:      time.Unix(1746486851, 235518000),
		data:     `{"cached":false,"loss":0.25,"rows":1234,"status":"ok"}`,
		proc:     proc{host: "vm", pid: 4242},
	}
	for _, c := range []struct {
		name   string
		mapped bool
		end    bool
	}{
		{"start/mmap", true, false},
		{"end/mmap", true, true},
		{"start/write", false, false},
		{"end/write", false, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "r"+JournalSuffix)
			owner, err := openJournal(path, 0o600, false)
			if err != nil {
				b.Fatal(err)
			}
			defer owner.remove()
			j := owner
			if !c.mapped {
				// A joined writer appends with write(2).
				if j, err = joinJournal(path, false); err != nil {
					b.Fatal(err)
				}
				defer j.close()
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := j.writeStage(&rec, c.end); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(appendStageEvent(nil, &rec, c.end))), "B/event")
		})
	}
}
