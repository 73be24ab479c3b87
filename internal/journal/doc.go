// Package journal is the one definition of a run's journal: the line
// format every writer and reader of a journal uses (the jsonrun exporter,
// its recovery, and stagetrack's start, exec, finish, run, progress and
// show), and the file that holds it.
//
// # Format
//
// A journal is a file named <run_id>.journal (Suffix) in a run's
// directory. It holds JSON Lines: one event per line, each line a JSON
// object ending in a newline, appended as the event happens. The first line
// is the run event; then each stage has a start event and, once it ended,
// an end event. The "e" field names the kind; "t" is when the event
// happened, in Unix nanoseconds. Other fields are left out when empty or
// zero:
//
//	{"e":"run","t":…,"run_id":"…","trace_id":"…","span_id":"…","parent_span_id":"…","trace_state":"…","name":"…","args":{…},"output_file":"…","pid":…,"host":"…","detached":true,"ci":{…}}
//	{"e":"start","t":…,"span_id":"…","parent_span_id":"…","name":"…","start":…}
//	{"e":"end","t":…,"span_id":"…","parent_span_id":"…","name":"…","pid":…,"host":"…","start":…,"end":…,"failed":true,"error":"…","status":"…","data":{…},"data_error":"…","stack":"…"}
//	{"e":"annotated","t":…,"span_id":"…","level":"warning"}
//
// An end event with "process_stage_count":N is not a stage's: it is the
// count span of the process pid on host, which ended N stages of the run
// (docs/attributes.md, the count span).
//
// An annotated event says that a step (stagetrack exec) has itself shown
// the CI system an annotation of that level ("error" or "warning") for
// the stage span_id, so that whoever finalises the run does not show it
// again. Readers that do not know it skip it as a line that is not a stage.
//
// The shared store of open runs (a Collector's exporter) keeps the lines
// of many runs in one log of segment files: there every line carries
// "run_id", and two more kinds appear:
//
//	{"e":"root","t":…,"run_id":"…","trace_id":"…","span_id":"…", …the run event's fields…,"start":…,"end":…,"failed":true,"error":"…","status":"…","stack":"…","stage_count":…,"tracker":true}
//	{"e":"done","t":…,"run_id":"…"}
//
// A root is a run span that arrived and waits for the run's late stages;
// done says the run's file is written and its earlier lines are dead.
//
// Ids are lower-case hex (trace 32 digits, span 16). A run event without
// span_id is a spill: a run whose stages a process kept without having
// seen its run span. "detached":true marks a run that stagetrack start
// opened: no process holds it between its steps. Args and data are JSON
// values written as they are, compacted onto the line. An end event
// carries the stage's whole record, so a stage whose end is in the file is
// recovered as it ended; a start without an end is a stage that was
// running. A span id seen twice counts once.
//
// The owner of a run writes its events into chunks of the file mapped into
// memory; a chunk's unfilled end is NUL bytes until written, and a chunk
// that does not start the file starts with one NUL byte. Processes that
// join the run append whole lines with write(2) after the chunks. So NUL
// bytes end a line too (no JSON text holds one): readers skip them
// (ScanLines). A line that ends at a NUL byte or at the end of the file
// without a newline is torn (a writer killed mid-line, or an event being
// written now) and is not an event. Lines that are not events are skipped
// and counted by Reader, never fatal.
//
// # Files
//
// Create opens the journal of a run that starts in this process, Join that
// of a run another process owns. Every writer holds a shared flock on the
// file while it may write: recovery takes a journal only when it can lock
// it exclusively, that is when its writers are gone.
package journal
