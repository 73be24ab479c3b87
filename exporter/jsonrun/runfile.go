package jsonrun

import (
	"github.com/stage-tracker/stage-tracker/runfile"
)

// The run file's format moved to package runfile, which reads and writes
// run files without linking an exporter or the OpenTelemetry SDK. These
// names stay so that programs written against jsonrun keep building.

type (
	// Run is a run file.
	//
	// Deprecated: use runfile.Run.
	Run = runfile.Run
	// Stage is one stage record.
	//
	// Deprecated: use runfile.Stage.
	Stage = runfile.Stage
	// Stages is an ordered set of stage records.
	//
	// Deprecated: use runfile.Stages.
	Stages = runfile.Stages
	// LineError reports a history line that could not be read.
	//
	// Deprecated: use runfile.LineError.
	LineError = runfile.LineError
)

// Deprecated: use the constants of package runfile.
const (
	SchemaVersion = runfile.SchemaVersion
	TimeLayout    = runfile.TimeLayout
	MaxStageDepth = runfile.MaxStageDepth
	MaxDataDepth  = runfile.MaxDataDepth
	MaxNesting    = runfile.MaxNesting

	StatusOK          = runfile.StatusOK
	StatusFailed      = runfile.StatusFailed
	StatusIncomplete  = runfile.StatusIncomplete
	StatusInterrupted = runfile.StatusInterrupted
	StatusCrashed     = runfile.StatusCrashed

	StageOK         = runfile.StageOK
	StageError      = runfile.StageError
	StageUnfinished = runfile.StageUnfinished
	StageRunning    = runfile.StageRunning
)

// Schema is the run file's JSON Schema: a copy of its own, so that
// changing it changes nothing else.
//
// Deprecated: use runfile.Schema, which returns a copy.
var Schema = runfile.Schema()

// ErrNotRegular is returned for a path that is not a regular file.
//
// Deprecated: use runfile.ErrNotRegular.
var ErrNotRegular = runfile.ErrNotRegular

// ReadFile reads a run file.
//
// Deprecated: use runfile.ReadFile.
func ReadFile(path string) (*Run, error) { return runfile.ReadFile(path) }

// ReadHistory reads a history file written with WithHistory.
//
// Deprecated: use runfile.ReadHistory.
func ReadHistory(path string) ([]*Run, error) { return runfile.ReadHistory(path) }

// ReadRuns reads the runs a file holds.
//
// Deprecated: use runfile.ReadRuns.
func ReadRuns(path string) ([]*Run, error) { return runfile.ReadRuns(path) }

// DecodeRuns decodes the runs in b, read from path.
//
// Deprecated: use runfile.DecodeRuns.
func DecodeRuns(b []byte, path string) ([]*Run, error) { return runfile.DecodeRuns(b, path) }

// ReadRegular reads path, refusing anything but a regular file.
//
// Deprecated: use runfile.ReadRegular.
func ReadRegular(path string) ([]byte, error) { return runfile.ReadRegular(path) }
