package journal

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkJournalStage measures what a journaled stage costs the journal
// alone, per event: encoding a stage's start or end event (AppendStage)
// into the reused buffer and putting it in the file, into the owner's
// mapped chunk or with one write(2) (as joined processes do). The stage is
// BenchmarkStage's: 4 data keys.
func BenchmarkJournalStage(b *testing.B) {
	s := Stage{
		Name:         "batch",
		SpanID:       [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		ParentSpanID: [8]byte{8, 7, 6, 5, 4, 3, 2, 1},
		Start:        time.Unix(1746486850, 235518000).UnixNano(),
		End:          time.Unix(1746486851, 235518000).UnixNano(),
		Data:         `{"cached":false,"loss":0.25,"rows":1234,"status":"ok"}`,
		Host:         "vm",
		PID:          4242,
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
		if c.mapped && !mapsJournals {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			j, err := Create(filepath.Join(b.TempDir(), "r"+Suffix), 0o600, false)
			if err != nil {
				b.Fatal(err)
			}
			defer j.Remove()
			j.mapped = c.mapped
			b.ReportAllocs()
			for b.Loop() {
				if err := j.WriteStage(&s, c.end); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(AppendStage(nil, &s, c.end))), "B/event")
		})
	}
}
