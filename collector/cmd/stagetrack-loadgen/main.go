// Command stagetrack-loadgen sends runs to a Collector the way a fleet of
// pipelines does, and records which stages the Collector acknowledged, so
// that a test can compare what was acknowledged with what was written.
//
// Each of -runs runs has -stages stages, made in turn by three kinds of
// producer, as on hosts that share a run:
//
//   - grpc: the Go tracker, exporting over OTLP/gRPC (the run's owner: its
//     root span is the run's, with the count of its own stages);
//   - exec: a process joined by TRACEPARENT and STAGE_TRACKER_RUN_ID,
//     exporting over OTLP/HTTP (protobuf). With -stagetrack, the first
//     -real-exec of them per run are the real `stagetrack exec`; the others
//     a tracker joined in this process with tracker.Join, as exec does;
//   - json: a plain OTLP/HTTP JSON sender following the run convention
//     (stage_tracker.run.id and stage_tracker.stage.name on each span),
//     retrying as an SDK does, and after the run's last stage its count
//     span (stage_tracker.process.stage_count).
//
// The producers in this process have a host.name each (<host>-grpc,
// <host>-exec, <host>-json), as on separate hosts; every process but the
// owner ends a count span of its stages, as the tracker's Join does.
//
// Every export is synchronous (one request per stage), so a stage is
// acknowledged exactly when its request was answered with success. The
// record (-acks, JSON Lines) has one line per run:
//
//	{"run_id":"…","trace_id":"…","root_span_id":"…","root_acked":true,
//	 "stages":[{"span_id":"…","name":"s00","kind":"grpc","acked":true,"host":"…","pid":…},…]}
//
// On stdout it prints "done N" after each finished run (a test injects its
// faults on these), and on stderr a one-line summary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

type options struct {
	runs, stages, workers, realExec int
	grpc, http, stagetrack, acks    string
	scratch                         string
	timeout                         time.Duration
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stagetrack-loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	flag.IntVar(&o.runs, "runs", 200, "number of runs")
	flag.IntVar(&o.stages, "stages", 20, "stages per run, made in turn by the grpc, exec and json producers")
	flag.IntVar(&o.workers, "concurrency", 8, "runs in flight at once")
	flag.StringVar(&o.grpc, "grpc", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port) of the tracker's spans")
	flag.StringVar(&o.http, "http", "http://127.0.0.1:4318", "OTLP/HTTP endpoint (URL) of the exec and json producers")
	flag.StringVar(&o.stagetrack, "stagetrack", "", "the stagetrack binary: run the first -real-exec exec stages of each run with it")
	flag.IntVar(&o.realExec, "real-exec", 1, "with -stagetrack: exec stages per run run by the real stagetrack exec")
	flag.StringVar(&o.acks, "acks", "", "write the record of sent and acknowledged stages to this file (JSON Lines)")
	flag.StringVar(&o.scratch, "scratch", os.TempDir(), "the --dir of the real stagetrack exec")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long one export may take, retries included (the SDKs' default)")
	flag.Parse()
	if o.runs < 1 || o.stages < 1 || o.workers < 1 {
		return errors.New("-runs, -stages and -concurrency must be at least 1")
	}
	// This process owns its runs: nothing of an enclosing run may leak in.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "STAGE_TRACKER_") || k == "TRACEPARENT" || k == "TRACESTATE" {
			os.Unsetenv(k)
		}
	}

	ctx := context.Background()
	g, err := newGenerator(ctx, o)
	if err != nil {
		return err
	}
	var out *json.Encoder
	if o.acks != "" {
		f, err := os.Create(o.acks)
		if err != nil {
			return err
		}
		defer f.Close()
		out = json.NewEncoder(f)
	}

	start := time.Now()
	var (
		mu                         sync.Mutex
		done, sent, acked, rootsOK int
		errs                       []error
	)
	next := make(chan int)
	var wg sync.WaitGroup
	for range o.workers {
		wg.Go(func() {
			for i := range next {
				rec, err := g.run(ctx, i)
				mu.Lock()
				done++
				if err != nil {
					errs = append(errs, fmt.Errorf("run %d: %w", i, err))
				}
				for _, s := range rec.Stages {
					sent++
					if s.Acked {
						acked++
					}
				}
				if rec.RootAcked {
					rootsOK++
				}
				if out != nil {
					if err := out.Encode(rec); err != nil {
						errs = append(errs, err)
					}
				}
				fmt.Printf("done %d\n", done)
				mu.Unlock()
			}
		})
	}
	for i := range o.runs {
		next <- i
	}
	close(next)
	wg.Wait()
	err = errors.Join(append(errs, g.shutdown(ctx))...)
	fmt.Fprintf(os.Stderr, "stagetrack-loadgen: %d runs × %d stages in %.1fs: %d of %d stages and %d of %d roots acknowledged\n",
		o.runs, o.stages, time.Since(start).Seconds(), acked, sent, rootsOK, o.runs)
	return err
}
