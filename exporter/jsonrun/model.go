package jsonrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/runstatus"
	"github.com/stage-tracker/stage-tracker/internal/stagekey"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// ToRun converts the spans of one run, its run span and its stage spans in
// any order and of any instrumentation scope, into the run record the
// exporter writes, by the run convention (docs/attributes.md): the run span
// carries stage_tracker.run.id without a stage name; its stages are the
// spans that name the run by stage_tracker.run.id, and the other spans of
// the run's traces. Spans of other traces are ignored. It returns an error
// when spans holds no run span or spans of more than one run.
//
// ToRun is pure: it reads the spans and does no I/O. It is safe for
// concurrent use.
func ToRun(spans []sdktrace.ReadOnlySpan) (*Run, error) {
	var (
		root   *rootRecord
		stages = make([]stageRecord, 0, len(spans))
		runID  string
		traces = map[trace.TraceID]bool{}
	)
	for _, s := range spans {
		id, role := classify(s, AttributeRoots)
		if role == roleNone || role == roleBadRunID {
			continue
		}
		if runID == "" {
			runID = id
		} else if id != runID {
			return nil, fmt.Errorf("jsonrun: spans of two runs (%s and %s)", runID, id)
		}
		if role == roleCount {
			if rec := newStageRecord(s, nil); rec.claim > 0 {
				stages = append(stages, rec)
			}
			continue
		}
		traces[s.SpanContext().TraceID()] = true
		if role == roleRoot {
			r := newRootRecord(s)
			root = &r
		} else {
			stages = append(stages, newStageRecord(s, nil))
		}
	}
	if root == nil {
		return nil, fmt.Errorf("jsonrun: no run span among %d spans", len(spans))
	}
	for _, s := range spans {
		if _, role := classify(s, AttributeRoots); role == roleNone && traces[s.SpanContext().TraceID()] {
			stages = append(stages, newStageRecord(s, nil))
		}
	}
	return assemble(root, runID, stages, ""), nil
}

// stageRecord is what the exporter keeps of a stage span while it waits for
// the run span: only what the run file needs, so that a buffered stage costs
// a couple of hundred bytes beyond its data.
type stageRecord struct {
	name       string
	spanID     trace.SpanID
	parentID   trace.SpanID
	start, end time.Time
	failed     bool
	// loose: the span named no run (no stage_tracker.run.id); it is a stage
	// by its trace. The tracker's run span counts only the others. Records
	// read back from a journal are never loose. (Beside failed: no padding.)
	loose    bool
	errMsg   string
	status   string // keys.StatusUnfinished, or "" when it ended normally
	data     string // JSON as the tracker encoded it
	dataErr  string
	stack    string
	timedOut bool // a time limit ended the stage
	// claim > 0 makes the record a count span's, not a stage's: its
	// process (proc) ended claim stages of the run (counts.go).
	claim int
	proc  proc // the process that ran the stage, when known
	// prov is the stage's inputs, outputs and tools as one JSON object
	// (stageProvenance), "" when it has none.
	prov string
	// res identifies the span's resource (its process), for the rule that
	// a process that names its stages' run marks its stages (marks.go). The
	// zero value, for records from a journal, is unknown.
	res attribute.Distinct
}

// newStageRecord reads a stage span; procs, when not nil, caches the
// process its resource names.
func newStageRecord(s sdktrace.ReadOnlySpan, procs *procCache) stageRecord {
	res := s.Resource()
	r := stageRecord{
		spanID:   s.SpanContext().SpanID(),
		parentID: s.Parent().SpanID(),
		start:    s.StartTime(),
		end:      s.EndTime(),
		proc:     procs.of(res),
		res:      res.Equivalent(),
		loose:    true,
	}
	if st := s.Status(); st.Code == codes.Error {
		r.failed = true
		r.errMsg = st.Description
		if r.errMsg == "" {
			r.errMsg = "error"
		}
	}
	var inputs, outputs, tools string
	counts, named := false, false // a count span: stage_tracker.process.run_id, no stage name
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case keys.StageInputs:
			inputs = kv.Value.AsString()
		case keys.StageOutputs:
			outputs = kv.Value.AsString()
		case keys.StageTools:
			tools = kv.Value.AsString()
		case keys.StageName:
			r.name, named = kv.Value.AsString(), true
		case keys.RunID:
			r.loose = false
		case keys.ProcessRunID:
			r.loose, counts = false, true
		case keys.ProcessStageCount:
			r.claim = int(max(0, min(kv.Value.AsInt64(), maxClaim)))
		case keys.StageStatus:
			r.status = kv.Value.AsString()
		case keys.StageStack:
			r.stack = kv.Value.AsString()
		case keys.StageTimedOut:
			r.timedOut = kv.Value.AsBool()
		case keys.StageParent:
			if id, err := trace.SpanIDFromHex(kv.Value.AsString()); err == nil {
				r.parentID = id
			}
		}
	}
	if !counts || named {
		r.claim = 0 // a stage claims nothing, whatever it carries
	}
	r.data, r.dataErr = stageData(s)
	r.prov = stageProvenance(inputs, outputs, tools)
	if !byTracker(s) {
		conventionFields(&r, s)
	}
	return r
}

// rootRecord is what the run file needs of the run span.
type rootRecord struct {
	name         string
	traceID      trace.TraceID
	spanID       trace.SpanID
	parentID     trace.SpanID
	start, end   time.Time
	failed       bool
	errMsg       string
	status       string // keys.StatusInterrupted or keys.StatusCrashed, or ""
	args         string
	argsSize     int // -1 when the attribute did not arrive
	argsErr      string
	outputFile   string
	stageCount   int // -1 when the attribute did not arrive
	stack        string
	provenance   string // the provenance object's JSON; "" for none
	droppedAttrs int
	proc         proc
	tracker      bool // the tracker's run span: its stage count counts only its stages
	res          attribute.Distinct
}

func newRootRecord(s sdktrace.ReadOnlySpan) rootRecord {
	r := rootRecord{
		name:         s.Name(),
		traceID:      s.SpanContext().TraceID(),
		spanID:       s.SpanContext().SpanID(),
		parentID:     s.Parent().SpanID(),
		start:        s.StartTime(),
		end:          s.EndTime(),
		stageCount:   -1,
		argsSize:     -1,
		droppedAttrs: s.DroppedAttributes(),
		proc:         procOf(s.Resource()),
		tracker:      byTracker(s),
		res:          s.Resource().Equivalent(),
	}
	if st := s.Status(); st.Code == codes.Error {
		r.failed = true
		r.errMsg = st.Description
		if !r.tracker {
			msg, _ := lastException(s.Events())
			r.errMsg = errorMessage(s, msg)
		}
	}
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case keys.RunArgs:
			r.args = kv.Value.AsString()
		case keys.RunArgsSize:
			r.argsSize = int(kv.Value.AsInt64())
		case keys.RunArgsError:
			r.argsErr = kv.Value.AsString()
		case keys.RunOutputFile:
			r.outputFile = kv.Value.AsString()
		case keys.RunStageCount:
			r.stageCount = int(kv.Value.AsInt64())
		case keys.RunStatus:
			r.status = kv.Value.AsString()
		case keys.RunStack:
			r.stack = kv.Value.AsString()
		case keys.RunProvenance:
			r.provenance = kv.Value.AsString()
		}
	}
	return r
}

// assemble builds the run record from the run span (nil when it never
// arrived) and the stage spans received for it, in any order. note, when
// not empty, is a warning to record, such as why a run without its run span
// is being written.
func assemble(root *rootRecord, runID string, stages []stageRecord, note string) *Run {
	// Start order, with the span id breaking ties so that the result does
	// not depend on the order in which spans arrived.
	byStart := func(a, b stageRecord) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return bytes.Compare(a.spanID[:], b.spanID[:])
	}
	// Stages that run one after another arrive in start order: checking is
	// cheap, moving records of this size around is not.
	stages = dropMarked(root, stages)
	if !slices.IsSortedFunc(stages, byStart) {
		slices.SortStableFunc(stages, byStart)
	}
	stages = dedupSorted(stages) // a span delivered twice is one stage (merge.go)
	stages, claims := splitClaims(stages)

	r := &Run{RunID: runID, SchemaVersion: SchemaVersion}
	if note != "" {
		r.Warnings = append(r.Warnings, note)
	}
	var flattened bool
	var runSpan trace.SpanID
	if root != nil {
		runSpan = root.spanID
	}
	r.Stages, flattened = buildTree(stages, runSpan)
	if flattened {
		r.Warnings = append(r.Warnings, fmt.Sprintf("stages nested deeper than %d levels are attached at level %d", MaxStageDepth, MaxStageDepth))
	}
	r.StageCount = len(stages)
	r.ProcessCounts = processCounts(claims)
	others := claimedMissing(root, stages, claims)

	stageFailure := stagesFailure(r.Stages)

	if root == nil {
		r.Status = StatusIncomplete
		r.MissingStages = others
		if len(stages) > 0 {
			r.StartTime = stages[0].start
			for _, s := range stages {
				if s.end.After(r.CompletedAt) {
					r.CompletedAt = s.end
				}
			}
		}
		r.TotalDurationSec = runfile.Seconds(r.CompletedAt.Sub(r.StartTime))
		return r
	}

	omitSameProc(r.Stages, root.proc)
	describeRun(r, root, counted(root, stages), others, stageFailure)
	return r
}

// describeRun fills in what run r's file says beside its stages, from its
// run span: count is how many of its stages the run span's stage count
// counts (see counted), others how many stages other processes' count
// spans claim that are missing (claimedMissing), stageFailure why they
// fail it ("" when they do not).
func describeRun(r *Run, root *rootRecord, count, others int, stageFailure string) {
	failed := stageFailure != ""
	r.Name = root.name
	r.Host, r.PID = root.proc.host, root.proc.pid
	r.StartTime = root.start
	r.CompletedAt = root.end
	r.TotalDurationSec = runfile.Seconds(root.end.Sub(root.start))
	r.TraceID = root.traceID.String()
	r.SpanID = root.spanID.String()
	if root.parentID.IsValid() {
		r.ParentSpanID = root.parentID.String()
	}
	r.Error = root.errMsg
	r.Stack = root.stack
	switch {
	case root.argsErr != "":
		r.Warnings = append(r.Warnings, root.argsErr+"; args not recorded")
	case root.args == "":
	case root.argsSize >= 0 && len(root.args) != root.argsSize:
		r.Warnings = append(r.Warnings, fmt.Sprintf("args truncated by span attribute limits: %d of %d bytes arrived; args not recorded", len(root.args), root.argsSize))
	case !json.Valid([]byte(root.args)):
		r.Warnings = append(r.Warnings, "args attribute is not valid JSON; args not recorded")
	case runfile.Nesting([]byte(root.args)) > MaxDataDepth:
		r.Warnings = append(r.Warnings, fmt.Sprintf("args nested %d levels deep, more than the run file's limit of %d; args not recorded", runfile.Nesting([]byte(root.args)), MaxDataDepth))
	default:
		r.Args = json.RawMessage(root.args)
	}
	if root.provenance != "" {
		if p, err := decodeProvenance(root.provenance); err != nil {
			r.Warnings = append(r.Warnings, err.Error())
		} else {
			r.Provenance = p
		}
	}
	switch {
	case root.stageCount < 0:
		if root.droppedAttrs > 0 {
			r.Warnings = append(r.Warnings, "span attribute limits dropped the run's stage count; completeness not verified")
		}
	case root.stageCount > count:
		r.MissingStages = root.stageCount - count
	}
	r.MissingStages += others

	switch {
	case root.status != "":
		r.Status = root.status
	case r.MissingStages > 0:
		r.Status = StatusIncomplete
	case failed || root.failed:
		r.Status = StatusFailed
		if r.Error == "" {
			r.Error = stageFailure // a failed run always says why
		}
	default:
		r.Status = StatusOK
	}
}

// counted is how many of stages the run span's stage count counts: all of
// them for a run span of another scope, which counts by hand; for the
// tracker's, only the stages that name their run and ran in its process
// (sameProcess): it knows nothing of other spans in its trace, nor of the
// stages of other processes that joined the run.
func counted(root *rootRecord, stages []stageRecord) int {
	if !root.tracker {
		return len(stages)
	}
	n := 0
	for i := range stages {
		if !stages[i].loose && sameProcess(root, &stages[i]) {
			n++
		}
	}
	return n
}

// omitSameProc clears the host and pid of the stages that ran where the
// run did: the file names a stage's process only where it differs.
func omitSameProc(s Stages, run proc) {
	s.Walk(func(st *Stage) {
		if st.Host == run.host || st.Host == "" {
			st.Host = ""
			if st.PID == run.pid {
				st.PID = 0
			}
		}
	})
}

// stagesFailure applies the status rule (see internal/runstatus) to a run's
// stages: only the last attempt of each stage name at each level counts.
// It returns why the stages fail the run, or "".
func stagesFailure(stages Stages) string {
	var a runstatus.Attempts
	var visit func(level Stages, parent *runstatus.Attempt)
	visit = func(level Stages, parent *runstatus.Attempt) {
		for i := range level {
			st := &level[i]
			at := a.Start(parent, jsonscalar.ValidUTF8(st.Name))
			switch st.Status {
			case StageError:
				a.Fail(at, st.Error)
			case StageUnfinished:
				a.Fail(at, "did not finish")
			}
			visit(st.Stages, at)
		}
	}
	visit(stages, nil)
	return a.Failure()
}

// buildTree nests stages under their parent stage and gives each record its
// key and attempt by the rule of internal/stagekey: the name for the last
// occurrence of a name at its level, name#1, name#2 ... for the earlier
// ones. stages must be in start order. Stages nested deeper than
// MaxStageDepth become children of their ancestor at that depth, in start
// order; flattened reports whether any did.
func buildTree(stages []stageRecord, runSpan trace.SpanID) (tree Stages, flattened bool) {
	if len(stages) == 0 {
		return nil, false
	}
	index := stageIndex(stages)
	children := make([][]int, len(stages))
	parent := make([]int, len(stages)) // -1 for a top-level stage
	var top []int
	for i, s := range stages {
		if p, ok := index[s.parentID]; ok && p != i {
			children[p] = append(children[p], i)
			parent[i] = p
		} else {
			top = append(top, i)
			parent[i] = -1
		}
	}
	// Parent links that form a cycle (only a corrupt journal or a broken
	// id generator makes them) would leave stages out of the tree: the
	// earliest stage of each cycle becomes a top-level stage instead.
	reached := make([]bool, len(stages))
	var reach func(i int)
	reach = func(i int) {
		reached[i] = true
		for _, c := range children[i] {
			if !reached[c] {
				reach(c)
			}
		}
	}
	for _, i := range top {
		reach(i)
	}
	cut := false
	for i := range stages {
		if reached[i] {
			continue
		}
		p := parent[i]
		children[p] = slices.DeleteFunc(children[p], func(c int) bool { return c == i })
		top = append(top, i)
		reach(i)
		cut = true
	}
	if cut {
		slices.Sort(top)
	}
	flattened = flattenDeep(top, children)
	var build func(level []int) Stages
	build = func(level []int) Stages {
		if len(level) == 0 {
			return nil
		}
		out := make(Stages, 0, len(level))
		// Keys and attempts go by the name as the file spells it, where
		// invalid UTF-8 becomes U+FFFD: "\xff" and "\xfe" are one name.
		var names stagekey.Level
		names.Grow(len(level))
		for _, i := range level {
			names.Count(jsonscalar.ValidUTF8(stages[i].name))
		}
		for _, i := range level {
			s := &stages[i]
			st := toStage(s)
			st.Key, st.Attempt = names.Next(jsonscalar.ValidUTF8(s.name))
			if parent[i] < 0 && s.parentID.IsValid() && s.parentID != runSpan {
				// Not nested, and not the run span's child: say whose it is,
				// so that a later merge can nest it (recordsOf).
				st.ParentSpanID = s.parentID.String()
			}
			st.Stages = build(children[i])
			out = append(out, st)
		}
		return out
	}
	return build(top), flattened
}

// flattenDeep gives every stage at depth MaxStageDepth-1 (the top level is
// 1) all of its descendants as direct children, in start order, so that the
// tree is never deeper than a reader accepts. It reports whether any
// stage moved.
func flattenDeep(top []int, children [][]int) bool {
	moved := false
	var collect func(i int, into []int) []int
	collect = func(i int, into []int) []int {
		for _, c := range children[i] {
			into = collect(c, append(into, c))
		}
		return into
	}
	type item struct{ i, depth int }
	stack := make([]item, 0, len(top))
	for _, i := range top {
		stack = append(stack, item{i, 1})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth < MaxStageDepth-1 {
			for _, c := range children[it.i] {
				stack = append(stack, item{c, it.depth + 1})
			}
			continue
		}
		deep := false
		for _, c := range children[it.i] {
			if len(children[c]) > 0 {
				deep = true
			}
		}
		if !deep {
			continue
		}
		all := collect(it.i, nil)
		slices.Sort(all)
		for _, c := range all {
			children[c] = nil
		}
		children[it.i] = all
		moved = true
	}
	return moved
}

func toStage(s *stageRecord) Stage {
	st := Stage{
		Name:        s.name,
		StartTime:   s.start,
		EndTime:     s.end,
		DurationSec: runfile.Seconds(s.end.Sub(s.start)),
		SpanID:      s.spanID.String(),
		DataError:   s.dataErr,
		Stack:       s.stack,
		TimedOut:    s.timedOut,
		Status:      StageOK,
		Host:        s.proc.host,
		PID:         s.proc.pid,
	}
	if s.data != "" {
		// The one place every stage passes, from a span or a journal: data
		// a reader would refuse is not written.
		if d := runfile.Nesting([]byte(s.data)); d > MaxDataDepth {
			st.DataError = fmt.Sprintf("data nested %d levels deep, more than the run file's limit of %d; the value was dropped", d, MaxDataDepth)
		} else {
			st.Data = json.RawMessage(s.data)
		}
	}
	if s.prov != "" {
		// Checked where the record was made (stageProvenance); a journal
		// line that says otherwise loses only this.
		var p stageFiles
		if json.Unmarshal([]byte(s.prov), &p) == nil {
			st.Inputs, st.Outputs, st.Tools = p.Inputs, p.Outputs, p.Tools
		}
	}
	if s.failed {
		st.Status = StageError
		st.Error = s.errMsg
	}
	if s.status != "" {
		st.Status = s.status
	}
	return st
}

// stageIndex maps each stage's span id to its position, or returns nil
// when no stage can be another's parent: every stage a child of the same
// span, which is not a stage (the run span). That common case needs no
// map: a lookup in a nil map finds nothing.
func stageIndex(stages []stageRecord) map[trace.SpanID]int {
	flat := true
	for _, s := range stages {
		if s.parentID != stages[0].parentID || s.spanID == stages[0].parentID {
			flat = false
			break
		}
	}
	if flat {
		return nil
	}
	index := make(map[trace.SpanID]int, len(stages))
	for i, s := range stages {
		index[s.spanID] = i
	}
	return index
}
