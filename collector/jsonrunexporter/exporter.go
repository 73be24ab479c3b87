package jsonrunexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stage-tracker/stage-tracker/collector/jsonrunexporter/internal/metadata"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// runExporter is the work of one jsonrun exporter: it converts each batch
// of pdata spans to SDK spans (package otlpspans, the converter
// `stagetrack run` uses too) and hands them to a jsonrun.Exporter. It is
// safe for concurrent use, as exporterhelper calls pushTraces from several
// goroutines.
type runExporter struct {
	cfg    *Config
	logger *zap.Logger
	tel    *metadata.TelemetryBuilder

	mu  sync.Mutex
	exp *jsonrun.Exporter // set by start
	// seen is the exporter's Stats as last logged (logChanges).
	seen jsonrun.Stats
}

func newRunExporter(cfg *Config, set component.TelemetrySettings) (*runExporter, error) {
	tel, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, fmt.Errorf("jsonrun exporter: metrics: %w", err)
	}
	e := &runExporter{cfg: cfg, logger: set.Logger, tel: tel}
	// The counts are the jsonrun.Exporter's own (Stats), observed when
	// the metrics are read.
	stat := func(f func(jsonrun.Stats) int64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			e.mu.Lock()
			exp := e.exp
			e.mu.Unlock()
			if exp != nil {
				o.Observe(f(exp.Stats()))
			}
			return nil
		}
	}
	err = errors.Join(
		tel.RegisterExporterJsonrunBadRunIdsCallback(stat(func(s jsonrun.Stats) int64 { return s.BadRunIDs })),
		tel.RegisterExporterJsonrunRefusedSpansCallback(stat(func(s jsonrun.Stats) int64 { return s.RefusedFull })),
		tel.RegisterExporterJsonrunRefusedRootsCallback(stat(func(s jsonrun.Stats) int64 { return s.RefusedRoots })),
		tel.RegisterExporterJsonrunRefusedLateSpansCallback(stat(func(s jsonrun.Stats) int64 { return s.RefusedStages })),
		tel.RegisterExporterJsonrunLateSpansCallback(stat(func(s jsonrun.Stats) int64 { return s.LateStages })),
		tel.RegisterExporterJsonrunDroppedSpansCallback(stat(func(s jsonrun.Stats) int64 { return s.DroppedSpans })),
		tel.RegisterExporterJsonrunExpiredRunsCallback(stat(func(s jsonrun.Stats) int64 { return s.ExpiredRuns })),
		tel.RegisterExporterJsonrunOpenRunsCallback(stat(func(s jsonrun.Stats) int64 { return s.OpenRuns })),
		tel.RegisterExporterJsonrunStoreBytesCallback(stat(func(s jsonrun.Stats) int64 { return s.StoreBytes })),
	)
	if err != nil {
		tel.Shutdown()
		return nil, fmt.Errorf("jsonrun exporter: metrics: %w", err)
	}
	return e, nil
}

func (e *runExporter) start(ctx context.Context, _ component.Host) error {
	opts, err := jsonrunOptions(e.cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(e.cfg.Directory, 0o755); err != nil {
		return fmt.Errorf("jsonrun exporter: directory %s: %w", e.cfg.Directory, err)
	}
	exp, err := jsonrun.New(opts...)
	if err != nil {
		return fmt.Errorf("jsonrun exporter: %w", err)
	}
	if e.cfg.Recover {
		e.recover(ctx, exp)
	}
	e.mu.Lock()
	e.exp = exp
	e.mu.Unlock()
	return nil
}

// recover finishes what a killed Collector left in the directory. Problems
// with single journals are logged, not fatal: the Collector must start.
func (e *runExporter) recover(ctx context.Context, exp *jsonrun.Exporter) {
	began := time.Now()
	resumed, err := resume(ctx, exp)
	if len(resumed) > 0 {
		e.logger.Info("took over the open runs of a stopped Collector",
			zap.Int("runs", len(resumed)), zap.Duration("took", time.Since(began)))
	}
	if err != nil {
		e.logger.Warn("some open runs could not be taken over", zap.Error(err))
	}
	paths, err := exp.Recover(ctx)
	if len(paths) > 0 {
		e.logger.Info("recovered run files from journals", zap.Strings("paths", paths))
	}
	if err != nil {
		e.logger.Warn("some journals could not be recovered", zap.Error(err))
	}
}

func (e *runExporter) shutdown(ctx context.Context) error {
	e.mu.Lock()
	exp := e.exp
	e.exp = nil
	e.mu.Unlock()
	defer e.tel.Shutdown()
	if exp == nil {
		return nil // never started, or shut down already
	}
	if e.cfg.Journal.Enabled {
		// Runs still open stay in the store (or keep their journals), for
		// the next start to resume: a restart in the middle of a run must
		// not split it.
		return exp.Detach(ctx)
	}
	return exp.Shutdown(ctx)
}

// logChanges logs, one line each, the spans that the exporter merged late,
// dropped or refused since it last looked (the refusals of a full store
// are logged by refused, with their request).
func (e *runExporter) logChanges(exp *jsonrun.Exporter) {
	e.mu.Lock()
	now := exp.Stats() // under e.mu: each change is logged once
	was := e.seen
	e.seen = now
	e.mu.Unlock()
	if n := now.LateStages - was.LateStages; n > 0 {
		e.logger.Info("stages merged into run files already written", zap.Int64("count", n))
	}
	if n := now.DroppedSpans - was.DroppedSpans; n > 0 {
		e.logger.Warn("spans dropped: their trace's run did not show up within run_wait, or too many waited", zap.Int64("count", n))
	}
	if n := now.BadRunIDs - was.BadRunIDs; n > 0 {
		e.logger.Warn("spans refused: their stage_tracker.run.id is not a UUID", zap.Int64("count", n))
	}
	if n := now.RefusedRoots - was.RefusedRoots; n > 0 {
		e.logger.Warn("run spans refused: another span owns their run", zap.Int64("count", n))
	}
	if n := now.RefusedStages - was.RefusedStages; n > 0 {
		e.logger.Warn("late stages refused: their run file could not be merged into", zap.Int64("count", n))
	}
	if n := now.ExpiredRuns - was.ExpiredRuns; n > 0 {
		e.logger.Warn("runs written as incomplete: their run span did not arrive within open_run_timeout", zap.Int64("count", n))
	}
}

// retryAfter is how long a sender refused for a full store is asked to
// wait (gRPC RetryInfo; OTLP/HTTP senders back off on 429 by themselves).
const retryAfter = 5 * time.Second

func (e *runExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	e.mu.Lock()
	exp := e.exp
	e.mu.Unlock()
	if exp == nil {
		return consumererror.NewPermanent(errors.New("jsonrun exporter is not started"))
	}
	spans, rejected := otlpspans.FromTraces(td)
	if n := rejected.Total(); n > 0 {
		e.tel.ExporterJsonrunRejectedSpans.Add(ctx, int64(n))
		e.logger.Warn("spans with invalid trace or span ids dropped", zap.Int("count", n), zap.Stringer("why", rejected))
	}
	err := exp.ExportSpans(ctx, spans)
	e.logChanges(exp)
	if err == nil {
		return nil
	}
	if errors.Is(err, jsonrun.ErrStoreFull) {
		return e.refused(err)
	}
	// The run holds what could be held; sending the batch again would
	// add its stages twice, so the error is final.
	return consumererror.NewPermanent(err)
}

// refused answers a request some of whose spans the store of open runs
// refused: nothing of them was kept, and the sender is told to retry
// later (gRPC RESOURCE_EXHAUSTED with RetryInfo, which the OTLP receiver
// answers over HTTP as 429). The spans it accepted are deduplicated by
// span id when they come again. One line is logged per request.
func (e *runExporter) refused(err error) error {
	n := 0
	for _, one := range unjoin(err) {
		if errors.Is(one, jsonrun.ErrStoreFull) {
			n++
		}
	}
	e.logger.Warn("spans refused: the store of open runs is full; the sender is asked to retry",
		zap.Int("refused", n), zap.Error(firstOf(err)))
	st := status.New(codes.ResourceExhausted, "jsonrun: "+jsonrun.ErrStoreFull.Error()+"; retry later")
	if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); derr == nil {
		st = d
	}
	return consumererror.NewOTLPGRPCError(st.Err(), st)
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// firstOf returns the first of the errors joined in err: one line.
func firstOf(err error) error {
	if errs := unjoin(err); len(errs) > 0 {
		return errs[0]
	}
	return err
}
