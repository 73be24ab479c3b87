// Command jsonrun-load measures what the jsonrun exporter costs: spans per
// second and per CPU-second for 20-stage runs sent by three producers at
// once, and the memory, descriptors and disk that many open runs hold, with
// the time to reopen them. It drives the exporter in this process as the
// Collector does (pdata converted by otlpspans, then
// jsonrun.Exporter.ExportSpans, one call per request), with the options
// the Collector's configuration gives it: the store of open runs (the
// default), or -files, a journal file per open run (the Collector before
// the store), as the baseline.
//
//	jsonrun-load -mode throughput -runs 2000            # spans/s, spans per CPU-second
//	jsonrun-load -mode open -runs 10000                 # RSS, open files, disk, reopen time
//	jsonrun-load -mode open -runs 10000 -files          # the same with a journal file per run
//	jsonrun-load -mode otlp -runs 2000 -pid PID         # the same load sent to a running Collector
//
// Each run prints one line of key=value figures. Run one mode per process:
// RSS is the process's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/otlpspans"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "jsonrun-load:", err)
		os.Exit(1)
	}
}

type options struct {
	mode      string
	runs      int
	stages    int
	producers int
	files     bool
	sync      bool
	dir       string
	maxRuns   int
	maxBytes  int64
	profile   string
	// -mode otlp
	endpoint string
	pid      int
	first    int
	idle     time.Duration
	countDir string
	batch    int
	inFlight int
}

func run() error {
	var o options
	flag.StringVar(&o.mode, "mode", "throughput", "throughput or open")
	flag.IntVar(&o.runs, "runs", 2000, "runs to send")
	flag.IntVar(&o.stages, "stages", 20, "stages per run (throughput)")
	flag.IntVar(&o.producers, "producers", 3, "processes each run's stages come from, sending at once")
	flag.BoolVar(&o.files, "files", false, "a journal file per open run (the baseline) instead of the store")
	flag.BoolVar(&o.sync, "sync", false, "journal.sync: fsync what each request adds")
	flag.StringVar(&o.dir, "dir", "", "directory for run files (default: a new temporary one, removed after)")
	flag.IntVar(&o.maxRuns, "max-open-runs", 0, "store.max_open_runs (0: the default)")
	flag.Int64Var(&o.maxBytes, "max-bytes", 0, "store.max_bytes (0: the default)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	flag.StringVar(&o.endpoint, "endpoint", "localhost:4317", "-mode otlp: the Collector's OTLP/gRPC endpoint")
	flag.IntVar(&o.pid, "pid", 0, "-mode otlp: the Collector's process id, whose CPU time, memory and descriptors are read")
	flag.IntVar(&o.first, "first", 1, "the number of the first run (runs sent to one Collector must not repeat)")
	flag.DurationVar(&o.idle, "idle", time.Second, "-mode otlp: the Collector is done once it used no CPU for this long")
	flag.StringVar(&o.countDir, "count-dir", "", "-mode otlp: count the run files written here")
	flag.IntVar(&o.batch, "batch", 1, "runs whose spans one request carries (each producer its share)")
	flag.IntVar(&o.inFlight, "in-flight", 256, "runs in flight at most: no producer gets further ahead of another (0: no bound, the producers drift apart)")
	flag.Parse()
	if o.dir == "" {
		d, err := os.MkdirTemp("", "jsonrun-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	switch o.mode {
	case "throughput":
		return throughput(o)
	case "open":
		return openRuns(o)
	case "otlp":
		return overOTLP(o)
	}
	return fmt.Errorf("unknown -mode %q", o.mode)
}

// newExporter makes the exporter the Collector's configuration makes.
func newExporter(o options) (*jsonrun.Exporter, error) {
	opts := []jsonrun.Option{
		jsonrun.WithDir(o.dir), jsonrun.WithFilePerm(0o600),
		jsonrun.WithPendingSpans(30 * time.Second), jsonrun.WithLateStageWait(5 * time.Second),
		jsonrun.WithRunFilesInDirOnly(), jsonrun.WithJournalAllRuns(),
	}
	if !o.files {
		opts = append(opts, jsonrun.WithRunStore(), jsonrun.WithStoreLimits(o.maxRuns, 0, o.maxBytes))
	}
	if o.sync {
		opts = append(opts, jsonrun.WithJournalSync())
	}
	return jsonrun.New(opts...)
}

func runID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// request is the spans of run n that producer p sends: its share of the
// stages, and the root when it is the first producer and root is set.
func request(n, p, producers, stages int, root bool) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "producer-"+strconv.Itoa(p))
	rs.Resource().Attributes().PutInt("process.pid", int64(1000+p))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("load")
	var tid pcommon.TraceID
	tid[0], tid[1], tid[2], tid[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	tid[15] = 1
	base := time.Unix(1764666000, 0).Add(time.Duration(n) * time.Minute)
	span := func(id int) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{0: byte(id >> 8), 1: byte(id), 7: 1})
		s.SetFlags(0x101)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(id) * time.Second)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(id)*time.Second + 500*time.Millisecond)))
		s.Attributes().PutStr("stage_tracker.run.id", runID(n))
		return s
	}
	for i := p; i < stages; i += producers {
		s := span(i + 2)
		s.SetParentSpanID(pcommon.SpanID{1: 1, 7: 1})
		s.SetName("stage-" + strconv.Itoa(i))
		s.Attributes().PutStr("stage_tracker.stage.name", "stage-"+strconv.Itoa(i))
		s.Attributes().PutStr("stage_tracker.stage.data", `{"rows":1234,"ok":true}`)
	}
	if root {
		s := span(1)
		s.SetName("pipeline")
		s.Attributes().PutInt("stage_tracker.run.stage_count", int64(stages))
	}
	return td
}

// requests returns the requests of each producer: its share of o.batch
// runs in one request, in one resource, as an SDK's batch span processor
// would send them, the first producer's with the roots.
func requests(o options) [][]ptrace.Traces {
	reqs := make([][]ptrace.Traces, o.producers)
	for p := range reqs {
		for n := o.first; n < o.first+o.runs; n += o.batch {
			td := request(n, p, o.producers, o.stages, p == 0)
			dst := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
			for m := n + 1; m < n+o.batch && m < o.first+o.runs; m++ {
				more := request(m, p, o.producers, o.stages, p == 0)
				more.ResourceSpans().At(0).ScopeSpans().At(0).Spans().MoveAndAppendTo(dst)
			}
			reqs[p] = append(reqs[p], td)
		}
	}
	return reqs
}

func export(ctx context.Context, exp *jsonrun.Exporter, td ptrace.Traces) error {
	spans, _ := otlpspans.FromTraces(td)
	return exp.ExportSpans(ctx, spans)
}

// throughput sends o.runs runs of o.stages stages, each producer one
// request per run with its share, at once, the first producer's with the
// root.
func throughput(o options) error {
	ctx := context.Background()
	exp, err := newExporter(o)
	if err != nil {
		return err
	}
	// Requests are built first: the figures are the exporter's.
	reqs := requests(o)
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	win := newInFlight(o.inFlight, o.batch, o.producers)
	cpu0, wall0 := cpuTime(), time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for p := range reqs {
		wg.Go(func() {
			for i, td := range reqs[p] {
				win.wait(p, i)
				err := export(ctx, exp, td)
				win.done(p, err != nil)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := exp.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	wall, cpu := time.Since(wall0), cpuTime()-cpu0
	if err := errors.Join(errs...); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(o.dir, "*.json"))
	spans := o.runs * (o.stages + 1)
	fmt.Printf("mode=throughput store=%v sync=%v batch=%d in_flight=%d runs=%d stages=%d producers=%d spans=%d files=%d wall=%s cpu=%s spans_per_s=%.0f spans_per_cpu_s=%.0f\n",
		!o.files, o.sync, o.batch, o.inFlight, o.runs, o.stages, o.producers, spans, len(files), wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		float64(spans)/wall.Seconds(), float64(spans)/cpu.Seconds())
	return nil
}

// openRuns opens o.runs runs, a stage each and no root, as a flood of
// distinct run ids would, and prints what the process holds; then it
// stops the exporter as the Collector does (open runs kept), and reopens
// them.
func openRuns(o options) error {
	ctx := context.Background()
	fds0 := openFDs()
	exp, err := newExporter(o)
	if err != nil {
		return err
	}
	refused := 0
	wall0 := time.Now()
	for n := 1; n <= o.runs; n++ {
		if err := export(ctx, exp, request(n, 1, 3, 3, false)); err != nil {
			if !errors.Is(err, jsonrun.ErrStoreFull) {
				return err
			}
			refused++
		}
	}
	took := time.Since(wall0)
	runtime.GC()
	rss, hwm := memory()
	fds := openFDs() - fds0
	disk := diskBytes(o.dir)
	st := exp.Stats()
	if err := exp.Detach(ctx); err != nil {
		return err
	}
	wall1 := time.Now()
	exp2, err := newExporter(o)
	if err != nil {
		return err
	}
	resumed, err := exp2.Resume(ctx)
	if err != nil {
		return err
	}
	reopen := time.Since(wall1)
	fds2 := openFDs() - fds0
	if err := exp2.Detach(ctx); err != nil {
		return err
	}
	fmt.Printf("mode=open store=%v runs=%d open=%d refused=%d took=%s rss_mb=%.1f hwm_mb=%.1f open_files=%d disk_mb=%.1f reopened=%d reopen=%s reopen_files=%d\n",
		!o.files, o.runs, st.OpenRuns, refused, took.Round(time.Millisecond), float64(rss)/(1<<20), float64(hwm)/(1<<20), fds,
		float64(disk)/(1<<20), len(resumed), reopen.Round(time.Millisecond), fds2)
	return nil
}

// memory returns VmRSS and VmHWM in bytes (Linux).
func memory() (rss, hwm int64) { return memoryOf("/proc/self/status") }

// memoryOf returns VmRSS and VmHWM in bytes from a /proc status file.
func memoryOf(status string) (rss, hwm int64) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// openFDs counts this process's descriptors (Linux).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// diskBytes is what the files under dir take on disk.
func diskBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += allocated(fi)
		}
		return nil
	})
	return n
}
