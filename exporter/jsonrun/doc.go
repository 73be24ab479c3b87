// Package jsonrun is the OpenTelemetry span exporter that turns the spans
// of each run (package tracker's, or any instrumentation's that follows the
// run convention of docs/attributes.md) into a run file (package runfile).
//
// Register it with a tracer provider through NewProcessor, as setup.Tracker
// does and the package example shows.
//
// The Processor exports run spans synchronously, keeps a journal of each
// open run, so that a stage that has ended survives the death of its
// process, and recovers in the background the journals that dead processes
// left in the directory (WithoutRecovery turns that off; Recover and
// RecoverJournal do it on demand). Registered with sdktrace.WithSyncer or
// WithBatcher instead, the Exporter writes the same run files, without
// journals. Either way, tracker.Run.Finalize learns from the exporter
// whether the file was written.
//
// An Exporter receiving ended spans from other processes or hosts (a
// Collector) wants WithPendingSpans, WithLateStageWait, WithJournalAllRuns
// and WithRunFilesInDirOnly; Resume then takes over the runs a killed
// predecessor left open.
//
// An Exporter and a Processor are safe for concurrent use.
package jsonrun
