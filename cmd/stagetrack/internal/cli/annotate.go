package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Who annotates a stage on GitHub Actions.
//
// The step whose stage it is (stagetrack exec in a run it joined) prints
// the annotation of its stage's last attempt, in its own step's log, where
// a person who clicks it finds CMD's output:
//
//   - an attempt that passed after earlier failed attempts of its name at
//     its level (the journal has them, from this exec's --retry or from
//     earlier steps) prints the ::warning that the stage is flaky;
//   - an attempt that failed prints a ::warning "failed (attempt N)", not
//     an ::error: exec cannot know whether a later step retries the stage
//     and passes, or whether the job swallows its exit code (|| true,
//     continue-on-error), and a green job must never show a red
//     annotation. A failing step is red anyway: the runner adds its own
//     error for the non-zero exit.
//
// The step appends an annotated event to the run's journal for each
// annotation it printed. Whoever finalises the run (finish, run, an exec
// that owns its run) prints the annotations of the deciding attempts
// (ghactions.go), leaving out those a step printed at the same level: so
// a flaky stage is one ::warning, from its step, and a failed stage's
// ::error comes once, at the end, when it is known that no retry passed.
// An exec that owns its run is its own finaliser and prints nothing
// early.

// stepAnnotated is what the steps of a run annotated themselves: the
// levels each stage span (hex id) was annotated with.
type stepAnnotated map[string][]string

func (s stepAnnotated) has(spanID, level string) bool {
	for _, l := range s[spanID] {
		if l == level {
			return true
		}
	}
	return false
}

// add records an annotated journal event; other events are not its.
func (s stepAnnotated) add(ev *journal.Event) bool {
	if ev.Kind != journal.KindAnnotated {
		return false
	}
	s[ev.SpanID] = append(s[ev.SpanID], ev.Level)
	return true
}

// readStepAnnotated reads the annotated events of the journal at path.
// A journal that cannot be read annotated nothing: the finaliser then
// prints everything, twice rather than never.
func readStepAnnotated(path string) stepAnnotated {
	done := stepAnnotated{}
	f, err := fsutil.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return done
	}
	defer f.Close()
	jr := journal.NewReader(f)
	for jr.Next() {
		done.add(jr.Event())
	}
	return done
}

// annotateStep prints, on GitHub Actions, the annotation of the attempt
// that exec just ended as the stage spanID of the run whose journal is
// at path (see above), and records it in the journal. The attempt's end
// is in the journal already: the jsonrun processor writes it as the
// stage ends. Failures are one line on stderr; the run is recorded
// either way.
func annotateStep(env *Env, path, spanID string) {
	if env.getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	rf, err := readStageJournal(path, spanID)
	if err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: GitHub Actions annotation: %s\n", oneLine(err))
		return
	}
	var line, level string
	for _, row := range runtree.Flatten(rf) {
		if row.Stage.SpanID != spanID {
			continue
		}
		switch {
		case row.Flaky():
			line, level = flakyAnnotation(row), journal.LevelWarning
		case runtree.Failed(row.Status):
			title := fmt.Sprintf("stage %s failed (attempt %d)", row.KeyPath, len(row.Earlier)+1)
			line = fmt.Sprintf("::warning title=%s::%s\n", escapeProperty(title), escapeData(stageProblem(row.Stage)))
			level = journal.LevelWarning
		}
		break
	}
	if line == "" {
		return
	}
	if _, err := io.WriteString(env.Stdout, line); err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: GitHub Actions annotation: %s\n", oneLine(err))
		return
	}
	if err := recordAnnotated(path, spanID, level); err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: GitHub Actions annotation: %s\n", oneLine(err))
	}
}

// maxDepth bounds the ancestors readStageJournal follows: a journal whose
// parent links go round is hostile input.
const maxDepth = 256

// readStageJournal reads, of the journal at path, what decides how stage
// spanID ended, as the run it would be alone: the run event, the stage's
// ancestors, and every attempt of its name at its level, which runtree
// then judges by the one rule. It finds them by scanning the lines for
// their encoded span id or name and decodes only those, so a step of a
// 50,000-stage run does not parse the whole run.
func readStageJournal(path, spanID string) (*runfile.Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	for rest := data; len(rest) > 0; {
		n, line, err := journal.ScanLines(rest, true)
		if err != nil || n == 0 {
			break
		}
		if line != nil {
			lines = append(lines, line)
		}
		rest = rest[n:]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("journal %s is empty", path)
	}
	keep := map[int]bool{0: true} // the run event
	// events returns the stage events whose lines hold needle and that
	// match, marking them kept.
	events := func(needle []byte, match func(*journal.Event) bool) []journal.Event {
		var evs []journal.Event
		for i, l := range lines {
			if !bytes.Contains(l, needle) {
				continue
			}
			ev, err := journal.Decode(l)
			if err != nil || (ev.Kind != journal.KindStart && ev.Kind != journal.KindEnd) || !match(&ev) {
				continue
			}
			keep[i] = true
			evs = append(evs, ev)
		}
		return evs
	}
	spanNeedle := func(id string) []byte { return []byte(`"span_id":"` + id + `"`) }
	mine := events(spanNeedle(spanID), func(ev *journal.Event) bool { return ev.SpanID == spanID })
	if len(mine) == 0 {
		return nil, fmt.Errorf("journal %s has no stage %s", path, spanID)
	}
	name, parent := mine[0].Name, mine[0].ParentSpanID
	events(append([]byte(`"name":`), jsonscalar.AppendText(nil, name)...), func(ev *journal.Event) bool {
		return ev.Name == name && ev.ParentSpanID == parent
	})
	for id, n := parent, 0; id != "" && n < maxDepth; n++ {
		up := events(spanNeedle(id), func(ev *journal.Event) bool { return ev.SpanID == id })
		if len(up) == 0 {
			break // the run span, or a stage of another process not in the journal
		}
		id = up[0].ParentSpanID
	}
	f, err := os.CreateTemp("", "stagetrack-stage-*.journal")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	for i, l := range lines {
		if keep[i] {
			w.Write(l)
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return nil, err
	}
	return jsonrun.ReadJournal(f.Name())
}

// recordAnnotated appends the annotated event of stage spanID to the
// journal at path, as a process that joined the run.
func recordAnnotated(path, spanID, level string) error {
	j, err := journal.Join(path, false)
	if err != nil {
		return err
	}
	werr := j.WriteEvent(&journal.Event{Kind: journal.KindAnnotated, T: time.Now().UnixNano(), SpanID: spanID, Level: level})
	if err := j.Close(); werr == nil {
		werr = err
	}
	return werr
}

// flakyAnnotation is the ::warning of a flaky stage: the attempt it passed
// on, and each earlier failure.
func flakyAnnotation(row runtree.Row) string {
	var msgs []string
	failed := 0
	for _, e := range row.Earlier {
		if runtree.Failed(runtree.Status(e)) {
			failed++
			msgs = append(msgs, fmt.Sprintf("attempt %d: %s", e.Attempt, orDefault(stageProblem(e), runtree.Status(e))))
		}
	}
	title := fmt.Sprintf("stage %s is flaky (passed on attempt %d after %d failed)", row.KeyPath, len(row.Earlier)+1, failed)
	return fmt.Sprintf("::warning title=%s::%s\n", escapeProperty(title), escapeData(strings.Join(msgs, "\n")))
}

// errorAnnotation is the ::error of a stage whose deciding attempt failed.
func errorAnnotation(row runtree.Row) string {
	title := "stage " + row.KeyPath + " failed"
	if row.Status != runfile.StageError {
		title = "stage " + row.KeyPath + " " + row.Status
	}
	return fmt.Sprintf("::error title=%s::%s\n", escapeProperty(title), escapeData(stageProblem(row.Stage)))
}
