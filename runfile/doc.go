// Package runfile is the run file's format: the JSON document that records
// one run of a pipeline, its stages and their data, as the jsonrun exporter,
// the stagetrack command and the Collector's exporter write it, and as
// every viewer reads it. docs/run-file.md describes the format and its
// versions; Schema returns its JSON Schema.
//
// It holds the types (Run, Stage, Stages), the run and stage statuses, and
// the functions that read (ReadFile, ReadRuns, DecodeRuns, ReadHistory) and
// write (Write, WriteFile, WriteStages, AppendHistory) run files and the
// history file (one run per line, JSON Lines). It imports no OpenTelemetry
// package, so a program that only reads runs links neither the SDK nor an
// exporter.
//
// Readers accept every earlier SchemaVersion; writers write the current
// one. Functions are safe for concurrent use; a Run is a plain value, safe
// for concurrent reads but not for concurrent writes.
package runfile
