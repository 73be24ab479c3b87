// Command pipeline is the test pipeline of the Collector end-to-end test: a
// run of stages spread over several processes. Run as the root, it starts
// the run and its in-process stages, a child of its own ("pipeline
// transform", joined by TRACEPARENT and STAGE_TRACKER_RUN_ID), a `stagetrack
// exec` child and, when given, a Node program.
//
// -mode local records the run as one machine does, with setup.Tracker and
// the run's journal: the reference run file. Under `stagetrack run` (which
// also receives the Node program's spans over OTLP) it joins that run.
// -mode collector sends every span over OTLP only (the root over gRPC, its
// children and the Node program over HTTP), with no journal and no run file
// of its own: the Collector makes the run file.
//
// With -pause the root stops after the first half of the run, prints
// "PAUSED", and goes on when a line arrives on its stdin: the test kills and
// restarts the Collector there.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

type options struct {
	mode, dir, runID, stagetrack, node, scratch, grpc, http string
	pause                                                   bool
}

func run() error {
	var o options
	flag.StringVar(&o.mode, "mode", "local", "local (setup.Tracker, journal) or collector (OTLP only)")
	flag.StringVar(&o.dir, "dir", "", "local: the run file directory")
	flag.StringVar(&o.runID, "run-id", "", "the run's id")
	flag.StringVar(&o.stagetrack, "stagetrack", "stagetrack", "the stagetrack binary")
	flag.StringVar(&o.node, "node", "", "a Node program to run as a stage (node FILE)")
	flag.StringVar(&o.scratch, "scratch", os.TempDir(), "where joined children may leave files")
	flag.StringVar(&o.grpc, "grpc", "", "collector: OTLP/gRPC endpoint (http://host:port)")
	flag.StringVar(&o.http, "http", "", "collector: OTLP/HTTP endpoint (http://host:port)")
	flag.BoolVar(&o.pause, "pause", false, "stop half-way until a line arrives on stdin")
	flag.Parse()
	ctx := context.Background()
	if flag.Arg(0) == "transform" {
		return transform(ctx, o)
	}
	return root(ctx, o)
}

// newTracker: local, the library's setup; collector, OTLP only, exported
// as each span ends so that a stage ended is a stage sent.
func newTracker(ctx context.Context, o options) (*tracker.Tracker, func(context.Context) error, error) {
	if o.mode == "local" {
		return setup.Tracker(ctx, setup.WithDir(o.dir))
	}
	exp, _, err := setup.OTLPExporter(ctx, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	// Spans only: the Collector writes the run file.
	return tracker.New(tracker.WithTracerProvider(tp), tracker.WithoutRunFile()), tp.Shutdown, nil
}

func root(ctx context.Context, o options) error {
	if o.mode == "collector" {
		os.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
		os.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", o.grpc)
	}
	tr, shutdown, err := newTracker(ctx, o)
	if err != nil {
		return err
	}
	var r *tracker.Run
	if id := os.Getenv(tracker.EnvRunID); o.mode == "local" && id != "" {
		// Under stagetrack run: its run is the run, this process a part.
		o.runID = id
		ctx, r = tr.StartOrJoin(ctx, nil)
	} else {
		ctx, r = tr.Start(ctx, map[string]any{"pipeline": "etl"}, tracker.WithRunID(o.runID), tracker.WithRunName("etl"))
	}
	err = errors.Join(
		r.Stage(ctx, "extract", func(ctx context.Context) (any, error) {
			return nil, r.Stage(ctx, "download", func(context.Context) (any, error) {
				return map[string]any{"rows": 3, "source": "s3://bucket/in.csv"}, nil
			})
		}),
		r.Stage(ctx, "transform", func(ctx context.Context) (any, error) {
			return nil, child(ctx, tr, o, os.Args[0], "-mode", o.mode, "transform")
		}),
	)
	if o.pause {
		fmt.Println("PAUSED")
		if _, rerr := bufio.NewReader(os.Stdin).ReadString('\n'); rerr != nil {
			err = errors.Join(err, fmt.Errorf("waiting to go on: %w", rerr))
		}
	}
	err = errors.Join(err, r.Stage(ctx, "load", func(ctx context.Context) (any, error) {
		return nil, child(ctx, tr, o, o.stagetrack, "exec", "--stage", "write", "--dir", o.scratch, "--", "true")
	}))
	if o.node != "" {
		err = errors.Join(err, r.Stage(ctx, "report", func(ctx context.Context) (any, error) {
			return nil, child(ctx, tr, o, "node", o.node)
		}))
	}
	return errors.Join(err, r.Finalize(ctx), shutdown(ctx))
}

// child runs a process as part of the run, under the stage in ctx.
func child(ctx context.Context, tr *tracker.Tracker, o options, name string, args ...string) error {
	journal := ""
	if o.mode == "local" {
		abs, err := filepath.Abs(o.dir)
		if err != nil {
			return err
		}
		journal = filepath.Join(abs, o.runID+".journal")
		if j := os.Getenv(tracker.EnvJournal); j != "" {
			journal = j // stagetrack run's
		}
	}
	env := os.Environ()
	for _, kv := range tr.ChildEnv(ctx, o.runID, journal) {
		if !strings.HasSuffix(kv, "=") {
			env = append(env, kv)
		}
	}
	if o.mode == "collector" {
		env = append(env, "OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_EXPORTER_OTLP_ENDPOINT="+o.http)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// transform is the child process: it joins the run and adds two stages,
// one of which fails.
func transform(ctx context.Context, o options) error {
	tr, shutdown, err := newTracker(ctx, o)
	if err != nil {
		return err
	}
	ctx, r := tr.StartOrJoin(ctx, nil)
	r.Stage(ctx, "parse", func(context.Context) (any, error) {
		return map[string]any{"fields": 5}, nil
	})
	r.Stage(ctx, "validate", func(context.Context) (any, error) {
		return map[string]any{"rejected": 2}, errors.New("2 rows rejected")
	})
	return errors.Join(r.Finalize(ctx), shutdown(ctx))
}
