package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/stage-tracker/stage-tracker/tracker
BenchmarkStage/jsonrun/journal=off-2   	  100	  9000 ns/op	  4000 cpu-ns/op	  250.0 retained-B/stage	 4000 B/op	  30 allocs/op
BenchmarkStage/baseline=sdk-2          	  100	  4000 ns/op	  4000 cpu-ns/op	 1768 B/op	   9 allocs/op
BenchmarkStage/jsonrun/journal=off-2   	  100	 10000 ns/op	  5000 cpu-ns/op	  260.0 retained-B/stage	 4000 B/op	  30 allocs/op
BenchmarkStage/baseline=sdk-2          	  100	  4000 ns/op	  4000 cpu-ns/op	 1768 B/op	   9 allocs/op
BenchmarkStage/jsonrun/journal=off-2   	  100	  9500 ns/op	  5000 cpu-ns/op	  240.0 retained-B/stage	 4000 B/op	  30 allocs/op
BenchmarkStage/baseline=sdk-2          	  100	  5000 ns/op	  4000 cpu-ns/op	 1768 B/op	   9 allocs/op
pkg: github.com/stage-tracker/stage-tracker/exporter/jsonrun
BenchmarkNonRunSpan/exporter/span=sdk-2          	1000	    40 ns/op	    0 B/op	   0 allocs/op
BenchmarkNonRunSpan/exporter/baseline=discard-2 	1000	     5 ns/op	    0 B/op	   0 allocs/op
BenchmarkFinishRun/stages=10000/exporter/disk-2    	 5	  30000000 ns/op
BenchmarkFinishRun/stages=10000/baseline=MarshalIndent-2	 5	  40000000 ns/op
BenchmarkReadFile/stages=10/ReadFile-2 	1000	 3000 ns/op
BenchmarkLonely-2                      	1000	 3000 ns/op
BenchmarkNotAResult says something
`

func TestRows(t *testing.T) {
	s := newSet()
	if err := s.parse(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	rows := make(map[string]row)
	for _, r := range s.rows() {
		rows[r.name] = r
	}
	tests := []struct {
		name     string
		baseline string
		ns       float64
		ratio    float64
		lo, hi   float64
		verdict  string
	}{
		{"BenchmarkStage/jsonrun/journal=off", "BenchmarkStage/baseline=sdk", 9500, 9500.0 / 4000, 1.9, 2.5, "wall MISSED, cpu met"},
		{"BenchmarkStage/baseline=sdk", "", 4000, 0, 0, 0, ""},
		{"BenchmarkNonRunSpan/exporter/span=sdk", "BenchmarkNonRunSpan/exporter/baseline=discard", 40, 8, 8, 8, "met"},
		{"BenchmarkFinishRun/stages=10000/exporter/disk", "BenchmarkFinishRun/stages=10000/baseline=MarshalIndent", 3e7, 0.75, 0.75, 0.75, "MISSED"},
		{"BenchmarkNonRunSpan/exporter/baseline=discard", "", 5, 0, 0, 0, ""},
		{"BenchmarkFinishRun/stages=10000/baseline=MarshalIndent", "", 4e7, 0, 0, 0, ""},
		{"BenchmarkReadFile/stages=10/ReadFile", "", 3000, 0, 0, 0, ""},
		{"BenchmarkLonely", "", 3000, 0, 0, 0, ""},
	}
	if len(rows) != len(tests) {
		t.Errorf("%d rows, want %d: %v", len(rows), len(tests), rows)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := rows[tt.name]
			if !ok {
				t.Fatalf("no row")
			}
			if r.baseline != tt.baseline || r.ns != tt.ns || r.ratio != tt.ratio || r.lo != tt.lo || r.hi != tt.hi || r.verdict() != tt.verdict {
				t.Errorf("got baseline %q ns %v ratio %v range %v–%v verdict %q; want %q %v %v %v–%v %q",
					r.baseline, r.ns, r.ratio, r.lo, r.hi, r.verdict(), tt.baseline, tt.ns, tt.ratio, tt.lo, tt.hi, tt.verdict)
			}
		})
	}
	stage := rows["BenchmarkStage/jsonrun/journal=off"]
	if got := stage.extra["retained-B/stage"]; got != 250 {
		t.Errorf("retained-B/stage median = %v, want 250", got)
	}
	if stage.cpuRatio != 1.25 || stage.cpuLo != 1 || stage.cpuHi != 1.25 {
		t.Errorf("cpu ratio %v (%v–%v), want 1.25 (1–1.25)", stage.cpuRatio, stage.cpuLo, stage.cpuHi)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
