package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/replay"
	"github.com/stage-tracker/stage-tracker/setup"
)

func newSendCommand(env *Env) *cobra.Command {
	var (
		timeout     time.Duration
		serviceName string
		spool       bool
	)
	cmd := &cobra.Command{
		Use:   "send [--spool] [RUN...]",
		Short: "Send runs to a tracing backend over OTLP, with their original ids and times",
		Long: `send replays run files as OpenTelemetry spans to the OTLP endpoint that the
standard environment variables name, so that runs recorded offline can be
looked at in Jaeger or any other backend later. Each run becomes the spans the
tracker made for it: the same trace id and span ids, parents, names, start and
end times, status, and stage_tracker.* attributes, under the tracker's
instrumentation scope. Files written without ids (by the Python stage-tracker)
get ids derived from the run id, the same each time.

Environment:
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
      where to send (default http://localhost:4318, or localhost:4317 for grpc)
  OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      http/protobuf (default), http/json or grpc
  OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _INSECURE, _CERTIFICATE...
      read by the OTLP exporter as usual
  OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
      the resource of the spans (service.name defaults to "stagetrack")

The spool: with --spool, or with no RUNFILE, send sends the spans that exec
(and run) kept because their own OTLP export failed (STAGETRACK_SPOOL,
default stagetrack/spool in the user's cache directory): each spool file in
one export, removed once the endpoint has taken it, kept otherwise. Spans
are sent with their own ids, so a backend that saw some of them before can
tell.

The endpoint and protocol variables are checked as setup.Tracker checks them.
send exits 1 when any run could not be sent (the others still are), and 2 when
the environment names a protocol it does not know or an endpoint that is not
an http:// or https:// URL.`,
		Example: example(
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 stagetrack send runs/*.json",
			"OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4317 stagetrack send run_output.json",
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 stagetrack send   # the spool",
		),
		GroupID: groupLook,
		Args:    args(cobra.ArbitraryArgs),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			if timeout <= 0 {
				return usagef("--timeout must be positive, not %v", timeout)
			}
			spool = spool || len(files) == 0
			var dir string
			if spool {
				d, err := spoolDir(env)
				if err != nil {
					return err
				}
				dir = d
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := sendResource(ctx, serviceName)
			if err != nil {
				return err
			}
			// The exporter as setup.Tracker builds it, with the same
			// checks of protocol and endpoints, before any file is read:
			// a bad environment is a usage error whatever the files.
			exp, proto, err := setup.OTLPExporter(ctx, env.getenv)
			if envErr, ok := errors.AsType[*setup.EnvError](err); ok {
				return usagef("%s: %s", envErr.Var, envErr.Reason)
			}
			if err != nil {
				return fmt.Errorf("OTLP exporter: %w", err)
			}
			var errs []error
			if spool {
				n, _, serrs := sendSpool(ctx, exp, dir, "", env.Stdout)
				errs = append(errs, serrs...)
				if n == 0 && len(serrs) == 0 {
					fmt.Fprintf(env.Stderr, "stagetrack: the spool %s holds nothing to send\n", dir)
				}
			}
			var runs []loadedRun
			if len(files) > 0 {
				files, err = resolveRuns(cmd.Context(), files)
				if err != nil {
					return errors.Join(err, exp.Shutdown(ctx))
				}
				runs, err = readLabeled(cmd.Context(), files, env.Stderr) // a history gives several runs
				if err != nil {
					return errors.Join(err, exp.Shutdown(ctx))
				}
			}
			for _, l := range runs {
				r := l.run
				stubs, err := replay.Spans(r, res)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", l.label, err))
					continue
				}
				if err := exp.ExportSpans(ctx, stubs.Snapshots()); err != nil {
					errs = append(errs, fmt.Errorf("%s: send run %s: %w", l.label, r.RunID, err))
					continue
				}
				fmt.Fprintf(env.Stdout, "sent run %s: %s, trace %s\n", r.RunID, plural(len(stubs), "span"), stubs[0].SpanContext.TraceID())
			}
			if err := exp.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("OTLP exporter shutdown: %w", err))
			}
			if len(errs) > 0 {
				return fmt.Errorf("to %s over %s: %w", otlpEndpoint(env, proto), proto, errors.Join(errs...))
			}
			return nil
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up sending after this long, retries included")
	cmd.Flags().BoolVar(&spool, "spool", false, "also send the spool: the spans exec and run kept when their OTLP export failed (the default with no RUNFILE)")
	cmd.Flags().StringVar(&serviceName, "service-name", "", `service.name of the spans (default: $OTEL_SERVICE_NAME, else "stagetrack")`)
	return cmd
}

// otlpEndpoint describes where the exporter sends, for messages.
func otlpEndpoint(env *Env, proto string) string {
	def := "http://localhost:4318"
	if proto == "grpc" {
		def = "localhost:4317"
	}
	return cmp.Or(env.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), env.getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), def)
}

// sendResource is the resource of the replayed spans: service.name
// "stagetrack", overridden by OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME, overridden by --service-name.
func sendResource(ctx context.Context, serviceName string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("stagetrack")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, usageError(fmt.Errorf("resource from the environment: %w", err))
	}
	if serviceName != "" {
		res, err = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(serviceName)))
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}
