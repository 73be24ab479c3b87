package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// overOTLP sends the throughput load to a running Collector over
// OTLP/gRPC, each producer its requests one after another, and prints the
// CPU time, memory and descriptors of the Collector's process (o.pid)
// that the load took: what any exporter the Collector's pipeline has
// costs, on the same requests. The CPU time counts until the Collector is
// idle again (no CPU used for idle), so that work it does after answering
// is counted.
func overOTLP(o options) error {
	if o.pid <= 0 {
		return errors.New("-mode otlp needs -pid, the Collector's process id")
	}
	ctx := context.Background()
	conn, err := grpc.NewClient(o.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	reqs := make([][]ptraceotlp.ExportRequest, o.producers)
	for p, tds := range requests(o) {
		for _, td := range tds {
			reqs[p] = append(reqs[p], ptraceotlp.NewExportRequestFromTraces(td))
		}
	}
	// The connection is made before the clock starts.
	if _, err := client.Export(ctx, ptraceotlp.NewExportRequest()); err != nil {
		return fmt.Errorf("-endpoint %s: %w", o.endpoint, err)
	}
	cpu0, err := procCPU(o.pid)
	if err != nil {
		return err
	}
	win := newInFlight(o.inFlight, o.batch, o.producers)
	wall0 := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for p := range reqs {
		wg.Go(func() {
			for i, req := range reqs[p] {
				win.wait(p, i)
				_, err := client.Export(ctx, req)
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
	wall := time.Since(wall0)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	cpu, err := settledCPU(o.pid, o.idle)
	if err != nil {
		return err
	}
	cpu -= cpu0
	rss, hwm := procMemory(o.pid)
	fds := procFDs(o.pid)
	files := -1
	if o.countDir != "" {
		m, _ := filepath.Glob(filepath.Join(o.countDir, "*.json"))
		files = len(m)
	}
	spans := o.runs * (o.stages + 1)
	fmt.Printf("mode=otlp pid=%d batch=%d in_flight=%d runs=%d stages=%d producers=%d spans=%d run_files=%d wall=%s cpu=%s spans_per_s=%.0f spans_per_cpu_s=%.0f rss_mb=%.1f hwm_mb=%.1f open_files=%d\n",
		o.pid, o.batch, o.inFlight, o.runs, o.stages, o.producers, spans, files, wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		float64(spans)/wall.Seconds(), float64(spans)/cpu.Seconds(), float64(rss)/(1<<20), float64(hwm)/(1<<20), fds)
	return nil
}

// settledCPU waits until process pid has used no CPU for idle and returns
// its CPU time then.
func settledCPU(pid int, idle time.Duration) (time.Duration, error) {
	last, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(idle)
		now, err := procCPU(pid)
		if err != nil {
			return 0, err
		}
		if now == last {
			return now, nil
		}
		last = now
	}
	return last, nil
}

// procCPU is the CPU time, user and system, that process pid used (Linux:
// /proc/<pid>/stat, in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// procMemory returns VmRSS and VmHWM of process pid in bytes (Linux).
func procMemory(pid int) (rss, hwm int64) {
	return memoryOf("/proc/" + strconv.Itoa(pid) + "/status")
}

// procFDs counts the descriptors of process pid (Linux).
func procFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
