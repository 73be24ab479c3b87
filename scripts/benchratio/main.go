// Command benchratio reads the output of go test -bench (any -count, any
// number of packages) and prints, for every benchmark, its median beside
// the median of its baseline, their ratio, and the target the project set
// for that ratio (docs/performance.md).
//
// Besides the wall time (ns/op) it reads cpu-ns/op, the CPU time per op
// that the project's benchmarks report (getrusage: every thread, the
// garbage collector included): on a shared machine the wall time also
// counts the time other processes had the CPU, the CPU time does not.
// Ratios and verdicts are given for both.
//
// A benchmark's baseline is the sibling sub-benchmark whose last name
// element starts with "baseline=": for BenchmarkStage/jsonrun/journal=off
// it is BenchmarkStage/baseline=sdk, found by walking up the name until a
// level has one. Benchmarks are paired in the order they appear, so when
// the input holds several rounds (scripts/bench.sh runs every benchmark
// once per round), the ratio of each round is also computed and its range
// shown: a wide range means the machine was noisy.
//
// Usage:
//
//	go run ./scripts/benchratio [-md] [file ...]
//
// With no file it reads standard input. -md prints a Markdown table.
// It exits with status 1 when the input holds no benchmark.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	md := flag.Bool("md", false, "print a Markdown table")
	flag.Parse()
	set := newSet()
	if flag.NArg() == 0 {
		if err := set.parse(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "benchratio:", err)
			os.Exit(2)
		}
	}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchratio:", err)
			os.Exit(2)
		}
		err = set.parse(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchratio: %s: %v\n", path, err)
			os.Exit(2)
		}
	}
	rows := set.rows()
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchratio: no benchmark results in the input")
		os.Exit(1)
	}
	if *md {
		writeMarkdown(os.Stdout, rows)
	} else {
		writeText(os.Stdout, rows)
	}
}

// set holds every sample of every benchmark, by name and unit, in input
// order.
type set struct {
	names   []string                        // in order of first appearance
	samples map[string]map[string][]float64 // name -> unit -> values
}

func newSet() *set { return &set{samples: make(map[string]map[string][]float64)} }

// procsSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines ("BenchmarkX-2  1000  123 ns/op  4 B/op ...")
// and ignores every other line.
func (s *set) parse(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // not a result line (a log line that starts with Benchmark)
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		units := s.samples[name]
		if units == nil {
			units = make(map[string][]float64)
			s.samples[name] = units
			s.names = append(s.names, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("%q: value %q: %w", sc.Text(), f[i], err)
			}
			units[f[i+1]] = append(units[f[i+1]], v)
		}
	}
	return sc.Err()
}

// baselineOf returns the name of name's baseline, or "" when it has none
// (or is a baseline itself).
func (s *set) baselineOf(name string) string {
	if isBaseline(name) {
		return ""
	}
	for dir := parent(name); dir != ""; dir = parent(dir) {
		for _, n := range s.names {
			if parent(n) == dir && isBaseline(n) {
				return n
			}
		}
	}
	return ""
}

func isBaseline(name string) bool {
	return strings.HasPrefix(name[strings.LastIndex(name, "/")+1:], "baseline=")
}

func parent(name string) string {
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return ""
	}
	return name[:i]
}

// row is one line of the report.
type row struct {
	name, baseline string
	samples        int
	ns, baseNs     float64 // medians of ns/op
	ratio          float64 // ns / baseNs; 0 without a baseline
	lo, hi         float64 // range of per-round ratios
	cpu, baseCPU   float64 // medians of cpu-ns/op; 0 when absent
	cpuRatio       float64
	cpuLo, cpuHi   float64
	bytes, allocs  float64 // medians of B/op and allocs/op; -1 when absent
	baseAllocs     float64
	extra          map[string]float64 // medians of custom metrics
	target         target
}

func (s *set) rows() []row {
	var out []row
	for _, name := range s.names {
		u := s.samples[name]
		r := row{
			name:       name,
			baseline:   s.baselineOf(name),
			samples:    len(u["ns/op"]),
			ns:         median(u["ns/op"]),
			bytes:      medianOr(u["B/op"], -1),
			allocs:     medianOr(u["allocs/op"], -1),
			baseAllocs: -1,
			extra:      make(map[string]float64),
			cpu:        median(u[cpuUnit]),
		}
		for unit, vs := range u {
			switch unit {
			case "ns/op", "B/op", "allocs/op", "MB/s", cpuUnit:
			default:
				r.extra[unit] = median(vs)
			}
		}
		if r.baseline != "" {
			b := s.samples[r.baseline]
			r.baseNs = median(b["ns/op"])
			r.baseAllocs = medianOr(b["allocs/op"], -1)
			if r.baseNs > 0 {
				r.ratio = r.ns / r.baseNs
			}
			r.lo, r.hi = pairedRange(u["ns/op"], b["ns/op"])
			r.baseCPU = median(b[cpuUnit])
			if r.cpu > 0 && r.baseCPU > 0 {
				r.cpuRatio = r.cpu / r.baseCPU
				r.cpuLo, r.cpuHi = pairedRange(u[cpuUnit], b[cpuUnit])
			}
		}
		r.target = targetFor(name)
		out = append(out, r)
	}
	return out
}

// cpuUnit is the CPU time per op the project's benchmarks report.
const cpuUnit = "cpu-ns/op"

// pairedRange returns the smallest and largest ratio a[i]/b[i] over the
// rounds both have.
func pairedRange(a, b []float64) (lo, hi float64) {
	n := min(len(a), len(b))
	for i := range n {
		if b[i] == 0 {
			continue
		}
		r := a[i] / b[i]
		if lo == 0 || r < lo {
			lo = r
		}
		if r > hi {
			hi = r
		}
	}
	return lo, hi
}

func median(vs []float64) float64 { return medianOr(vs, 0) }

func medianOr(vs []float64, none float64) float64 {
	if len(vs) == 0 {
		return none
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// target is what docs/performance.md asks of a benchmark.
type target struct {
	maxRatio    float64 // ns/op over the baseline's; 0: none
	maxAddedNs  float64 // ns/op minus the baseline's; 0: none
	zeroAllocs  bool    // no allocation beyond the baseline's
	maxRetained float64 // retained-B/stage; 0: none
}

func (t target) String() string {
	var parts []string
	if t.maxRatio > 0 {
		parts = append(parts, fmt.Sprintf("≤%.2g×", t.maxRatio))
	}
	if t.maxAddedNs > 0 {
		parts = append(parts, fmt.Sprintf("<%g ns added", t.maxAddedNs))
	}
	if t.zeroAllocs {
		parts = append(parts, "0 allocs added")
	}
	if t.maxRetained > 0 {
		parts = append(parts, fmt.Sprintf("<%g retained B/stage", t.maxRetained))
	}
	return strings.Join(parts, ", ")
}

func targetFor(name string) target {
	switch {
	// Issue 12's targets; docs/performance.md.
	case name == "BenchmarkStage/jsonrun/journal=off":
		return target{maxRatio: 2.0, maxRetained: 512}
	case name == "BenchmarkStage/jsonrun/journal=on", name == "BenchmarkStage/setup.Tracker":
		return target{maxRatio: 2.5, maxRetained: 512}
	case name == "BenchmarkStage/full/stages=1000/tmpfs":
		return target{maxRatio: 2.5}
	case name == "BenchmarkStage/full/stages=1000/disk":
		return target{maxRatio: 3.0}
	case name == "BenchmarkCLI/exec/journals=empty":
		return target{maxRatio: 2.0}
	case name == "BenchmarkCLI/runsize/journals=10000+10000":
		return target{maxRatio: 1.2}
	case strings.HasPrefix(name, "BenchmarkNonRunSpan/") && !isBaseline(name):
		return target{maxAddedNs: 50, zeroAllocs: true}
	case strings.HasPrefix(name, "BenchmarkFinishRun/stages=10000/exporter"):
		return target{maxRatio: 0.5}
	}
	return target{}
}

// verdict says whether r meets its target, judged on the wall time and,
// when the benchmark reports it, on the CPU time: "met", "MISSED", or which
// of the two it met; "" when r has no target.
func (r row) verdict() string {
	t := r.target
	if t == (target{}) || r.baseline == "" {
		return ""
	}
	common := true
	if t.zeroAllocs && r.allocs > r.baseAllocs {
		common = false
	}
	if v, has := r.extra["retained-B/stage"]; t.maxRetained > 0 && has && v >= t.maxRetained {
		common = false
	}
	meets := func(ns, baseNs float64) bool {
		ratio := ns / baseNs
		return common &&
			(t.maxRatio == 0 || ratio <= t.maxRatio) &&
			(t.maxAddedNs == 0 || ns-baseNs < t.maxAddedNs)
	}
	wall := meets(r.ns, r.baseNs)
	if r.cpuRatio == 0 {
		return metOrMissed(wall)
	}
	cpu := meets(r.cpu, r.baseCPU)
	if wall == cpu {
		return metOrMissed(wall)
	}
	return "wall " + metOrMissed(wall) + ", cpu " + metOrMissed(cpu)
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r row) cells() []string {
	c := []string{r.name, strconv.Itoa(r.samples), formatNs(r.ns)}
	if r.baseline == "" {
		c = append(c, "", "")
	} else {
		c = append(c, formatNs(r.baseNs), fmt.Sprintf("%.2f× (%.2f–%.2f)", r.ratio, r.lo, r.hi))
	}
	switch {
	case r.cpu == 0:
		c = append(c, "", "")
	case r.cpuRatio == 0:
		c = append(c, formatNs(r.cpu), "")
	default:
		c = append(c, formatNs(r.cpu), fmt.Sprintf("%.2f× (%.2f–%.2f)", r.cpuRatio, r.cpuLo, r.cpuHi))
	}
	if r.baseline == "" {
		c = append(c, "")
	} else {
		c = append(c, formatNs(r.ns-r.baseNs))
	}
	c = append(c, formatCount(r.bytes), formatCount(r.allocs))
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(r.extra)) {
		extra = append(extra, fmt.Sprintf("%.0f %s", r.extra[k], k))
	}
	return append(c, strings.Join(extra, " "), r.target.String(), r.verdict())
}

var header = []string{"benchmark", "n", "ns/op", "baseline ns/op", "ratio (rounds)", "cpu-ns/op", "cpu ratio (rounds)", "added ns/op", "B/op", "allocs/op", "other", "target", "verdict"}

func writeText(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	tw.Flush()
}

func writeMarkdown(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	fmt.Fprintln(w, strings.Repeat("|---", len(header))+"|")
	for _, r := range rows {
		c := r.cells()
		c[0] = "`" + c[0] + "`"
		fmt.Fprintln(w, "| "+strings.Join(c, " | ")+" |")
	}
}

func formatNs(ns float64) string {
	switch a := max(ns, -ns); {
	case a >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case a >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.1f ns", ns)
	}
}

func formatCount(v float64) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
