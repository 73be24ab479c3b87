package jsonrunexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// runExporter is the work of one jsonrun exporter: it converts each batch
// of pdata spans to SDK spans (package otlpspans, the converter
// `stagetrack run` uses too) and hands them to a jsonrun.Exporter. It is
// safe for concurrent use, as exporterhelper calls pushTraces from several
// goroutines.
type runExporter struct {
	cfg      *Config
	logger   *zap.Logger
	rejected metric.Int64Counter // spans dropped for invalid ids

	mu  sync.Mutex
	exp *jsonrun.Exporter // set by start
}

// scopeName is the instrumentation scope of the exporter's own metrics.
const scopeName = "github.com/stage-tracker/stage-tracker/collector/jsonrunexporter"

func newRunExporter(cfg *Config, set component.TelemetrySettings) (*runExporter, error) {
	rejected, err := set.MeterProvider.Meter(scopeName).Int64Counter("otelcol_exporter_jsonrun_rejected_spans",
		metric.WithDescription("Spans the jsonrun exporter dropped because their trace or span id is invalid."),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, fmt.Errorf("jsonrun exporter: metric: %w", err)
	}
	return &runExporter{cfg: cfg, logger: set.Logger, rejected: rejected}, nil
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
	resumed, err := resume(ctx, exp)
	if len(resumed) > 0 {
		e.logger.Info("took over the open runs of a stopped Collector", zap.Strings("run_ids", resumed))
	}
	if err != nil {
		e.logger.Warn("some journals could not be taken over", zap.Error(err))
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
	if exp == nil {
		return nil // never started, or shut down already
	}
	if e.cfg.Journal.Enabled {
		// Runs still open keep their journals, for the next start to
		// resume: a restart in the middle of a run must not split it.
		return exp.Detach(ctx)
	}
	return exp.Shutdown(ctx)
}

func (e *runExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	e.mu.Lock()
	exp := e.exp
	e.mu.Unlock()
	if exp == nil {
		return consumererror.NewPermanent(errors.New("jsonrun exporter is not started"))
	}
	spans, rejected := otlpspans.FromTraces(td)
	if n := rejected.Total(); n > 0 {
		e.rejected.Add(ctx, int64(n))
		e.logger.Warn("spans with invalid trace or span ids dropped", zap.Int("count", n), zap.Stringer("why", rejected))
	}
	if err := exp.ExportSpans(ctx, spans); err != nil {
		// The run holds what could be held; sending the batch again would
		// add its stages twice, so the error is final.
		return consumererror.NewPermanent(err)
	}
	return nil
}
