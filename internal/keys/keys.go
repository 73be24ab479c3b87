// Package keys holds the names that the tracker writes onto spans and the
// jsonrun exporter reads back: the contract between the two packages.
//
// Every attribute lives under the stage_tracker.* namespace; docs/attributes.md
// documents each one for people who search for them in a tracing backend.
package keys

// ScopeName is the instrumentation scope of every span the tracker makes.
// It is the import path of the tracker package.
const ScopeName = "github.com/stage-tracker/stage-tracker/tracker"

// Attributes set when a span starts, so that samplers can see them.
const (
	// RunID is the run's UUID, on the run span and on every stage span.
	RunID = "stage_tracker.run.id"
	// RunArgs is the run's args, JSON-encoded, on the run span.
	RunArgs = "stage_tracker.run.args"
	// RunOutputFile is where the run file goes when the caller chose a path.
	RunOutputFile = "stage_tracker.run.output_file"
	// StageName is the stage's name, on every stage span. It comes before
	// RunID, so that a count limit of one leaves a stage span without its
	// run id (ignored, and counted missing) rather than looking like a run.
	StageName = "stage_tracker.stage.name"
	// RunArgsSize is the length in bytes of RunArgs as the tracker made it.
	RunArgsSize = "stage_tracker.run.args_size"
	// StageParent is the span id of the stage this stage was started in, set
	// only when another span sits between them (a library's span inside a
	// stage), so that the run file still nests the stage under its stage.
	StageParent = "stage_tracker.stage.parent_span_id"
	// RunProvenance is what the run was made of (code, command, machine,
	// tools, allow-listed env), the run file's provenance object as JSON,
	// on the run span: set at start, so the journal has it from the first
	// line.
	RunProvenance = "stage_tracker.run.provenance"
)

// The count span: a span a process that joined a run (and does not own it)
// ends after its last stage of that run, saying how many it ended, so that
// the run file can tell which of another process's stages are missing. It
// names its run under ProcessRunID, not RunID: an exporter that does not
// know count spans takes it for a library's span, never for a run span.
const (
	// ProcessRunID is the run the count span counts stages of.
	ProcessRunID = "stage_tracker.process.run_id"
	// ProcessStageCount is how many stage spans of that run the process
	// ended (its nested stages included).
	ProcessStageCount = "stage_tracker.process.stage_count"
	// CountSpanName is the count span's name.
	CountSpanName = "stage_tracker.process"
)

// Attributes set when a span ends. The most important come first: when the
// SDK's attribute count limit is reached it keeps the earliest attributes.
const (
	// RunStageCount is how many stage spans the run ended, so the exporter
	// can tell a complete run from one that lost spans on the way.
	RunStageCount = "stage_tracker.run.stage_count"
	// RunStatus is set only when the status cannot be derived from the
	// stages: "interrupted" or "crashed".
	RunStatus = "stage_tracker.run.status"
	// StageData is the stage's data, JSON-encoded.
	StageData = "stage_tracker.stage.data"
	// StageDataSize is the length in bytes of StageData as the tracker made
	// it; a shorter attribute was truncated by span limits.
	StageDataSize = "stage_tracker.stage.data_size"
	// StageDataTypedSize marks a stage whose data is carried by its typed
	// DataPrefix attributes alone (a flat map of scalars, no StageData): it
	// is the length in bytes of the JSON those attributes rebuild, so a value
	// cut or a key dropped by span limits is detected.
	StageDataTypedSize = "stage_tracker.stage.data_typed_size"
	// StageDataError says why data could not be recorded (not encodable,
	// over the size cap).
	StageDataError = "stage_tracker.stage.data_error"
	// StageStatus is set only for stages that did not end normally:
	// "unfinished" when Finalize ended them.
	StageStatus = "stage_tracker.stage.status"
	// StageStack is the goroutine stack of a panic inside the stage.
	StageStack = "stage_tracker.stage.stack"
	// StageTimedOut is true when a time limit ended the stage
	// (stagetrack exec --timeout); absent otherwise.
	StageTimedOut = "stage_tracker.stage.timed_out"
	// StageInputs and StageOutputs are the files a stage read and wrote,
	// a JSON array of the run file's file objects (path, size, mtime,
	// sha256); StageTools the versions of what it ran, a JSON object.
	StageInputs  = "stage_tracker.stage.inputs"
	StageOutputs = "stage_tracker.stage.outputs"
	StageTools   = "stage_tracker.stage.tools"
	// RunStack is the goroutine stack of a panic that crashed the run.
	RunStack = "stage_tracker.run.stack"
	// RunArgsError says why the run's args could not be recorded.
	RunArgsError = "stage_tracker.run.args_error"
	// DataPrefix prefixes the top-level scalar keys of a stage's data, as
	// individual attributes so they can be searched in a backend: the data
	// itself when the span has StageDataTypedSize, copies beside StageData
	// otherwise.
	DataPrefix = "stage_tracker.data."
)

// Values of RunStatus and StageStatus.
const (
	StatusUnfinished  = "unfinished"
	StatusInterrupted = "interrupted"
	StatusCrashed     = "crashed"
)
