// Package tracker records the runs of a multi-stage pipeline (a CI job, a
// training run, a batch) as OpenTelemetry traces: a run is a span, and each
// of its stages a child span carrying the stage's data and error. With the
// jsonrun exporter in the tracer provider's pipeline, each run also becomes
// a run file: a JSON document of the run and its stages (package runfile,
// docs/run-file.md).
//
// # Starting
//
// setup.Tracker builds everything in one call: a tracer provider wired to
// the jsonrun exporter and to the exporters the OTEL_* environment selects,
// and a Tracker that uses it. A program that has its own provider brings it
// with WithTracerProvider and registers the exporter with the provider,
// through jsonrun.NewProcessor (see the example "BringYourOwnTracerProvider");
// without WithTracerProvider a Tracker uses the global provider.
//
// # Runs and stages
//
// Tracker.Start starts a run; Run.StartStage and Run.EndStage, or Run.Stage
// with a function, record its stages, which nest when started inside
// another; Run.Finalize ends the run. A stage that failed and then passed on
// retry does not fail the run. StartOrJoin and Join let the processes a
// program starts add their stages to its run.
//
// # What Finalize promises
//
// Finalize ends the run span, flushes the provider, and returns once the run
// file is on disk (Run.File names it), or with the error that kept it from
// being written. It never returns nil without a file: when no run-file
// exporter took the run it returns an error wrapping ErrNoRunFile, and when
// the sampler dropped the run, ErrNotRecorded (the sampler AlwaysSampleRuns
// keeps every run while sampling other traffic).
//
// A service that wants its stages as spans in its own traces, and no file
// per request, starts its runs WithoutRunFile (on New for every run, or on
// Start for one): Finalize then ends the run without flushing or waiting,
// and needs no run-file exporter.
//
// # What a run was made of
//
// Start records the run's provenance in the run file: the git commit,
// branch, dirty state and diff digest of the working directory's
// repository, the command line and working directory, the machine and the
// Go version, captured once per Tracker. Environment variables are recorded
// only when named (WithEnv, STAGE_TRACKER_ENV). WithCapture picks the parts,
// WithoutProvenance records none. Stage.Input and Stage.Output record the
// files a stage read and wrote, with their SHA-256.
//
// # Concurrency
//
// A Tracker, a Run and a Stage are safe for concurrent use. After Finalize,
// StartStage returns no-op stages and a second Finalize does nothing.
package tracker
