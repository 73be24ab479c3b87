// Package limits holds the bounds of the run-file format, in one place:
// what the writer refuses is exactly what the reader would refuse.
package limits

const (
	// StageDepth is how many levels of nested stages a run file holds.
	// Stages nested deeper are attached at the deepest level, with a
	// warning: no pipeline nests a thousand levels, a runaway recursion
	// may.
	StageDepth = 1000
	// DataDepth is how deeply a stage's data (or a run's args) may nest
	// JSON objects and arrays. Deeper data is dropped and marked.
	DataDepth = 1000
	// FileNesting is how deeply the JSON of a whole run file may nest: two
	// levels per stage level (the stage object and its "stages"), the
	// data, and the run object around them. Under encoding/json's own
	// limit of 10,000.
	FileNesting = 2*StageDepth + DataDepth + 8
)
