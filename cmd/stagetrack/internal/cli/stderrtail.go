package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Bounds of the stderr tail a failed exec records.
const (
	defaultTailLines = 20
	tailBytes        = 4 << 10
)

// tailWriter keeps the last lines written to it, at most maxLines lines
// and tailBytes bytes, holding no more than twice that in memory. It is
// safe for concurrent use (exec.Cmd copies stderr in a goroutine).
type tailWriter struct {
	maxLines int
	mu       sync.Mutex
	buf      []byte
	cut      bool // bytes before buf were dropped
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > tailBytes {
		p, w.buf, w.cut = p[len(p)-tailBytes:], w.buf[:0], true
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > 2*tailBytes {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailBytes:]...)
		w.cut = true
	}
	return len(p), nil
}

// String returns the tail: the last maxLines complete or final lines within
// tailBytes, without a line cut at its start, as valid UTF-8, trailing
// newline removed.
func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := bytes.TrimRight(w.buf, "\n")
	cut := w.cut
	if len(b) > tailBytes {
		b, cut = b[len(b)-tailBytes:], true
	}
	if cut {
		// Drop the partial first line, unless it is all there is.
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	lines := strings.Split(strings.ToValidUTF8(string(b), "\uFFFD"), "\n")
	if len(lines) > w.maxLines {
		lines = lines[len(lines)-w.maxLines:]
	}
	return strings.Join(lines, "\n")
}

// secretAssignment matches KEY=VALUE and KEY: VALUE where KEY ends in one
// of the keys that commonly hold secrets (tracker.DefaultRedactKeys), as in
// "GITHUB_TOKEN=ghp_…" or "password: hunter2". It is compiled when a tail
// is redacted, not at package init: every stagetrack command would pay.
func secretAssignment() *regexp.Regexp {
	return regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:` +
		strings.Join(tracker.DefaultRedactKeys(), "|") +
		`)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)`)
}

// redactText replaces the values of secret-looking assignments in text,
// and every occurrence of the value of an environment variable whose name
// names a secret: the stderr tail is free text, so the library's key-based
// redaction of data cannot reach inside it.
func redactText(text string, environ []string) string {
	text = secretAssignment().ReplaceAllString(text, "${1}"+tracker.Redacted)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if len(v) < 6 || !secretName(k) {
			continue
		}
		text = strings.ReplaceAll(text, v, tracker.Redacted)
	}
	return text
}

func secretName(k string) bool {
	k = strings.ToLower(k)
	for _, s := range tracker.DefaultRedactKeys() {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// stderrTails renders, for show, the stderr tails of a run's failed stages:
//
//	stderr of build (exit status 3):
//	  │ cc: error: foo.c: no such file
//
// "" when no stage has one.
func stderrTails(r *runfile.Run) string {
	var b strings.Builder
	// The stages in runtree.Flatten's order, without its rows: a path is
	// made only for a stage with a tail, rare in a large run.
	var walk func(s runfile.Stages, keys string)
	walk = func(s runfile.Stages, keys string) {
		for i := range s {
			st := &s[i]
			if tail := report.StderrTail(st.Data); tail != "" {
				fmt.Fprintf(&b, "\nstderr of %s", view.Clean(keyPath(keys, st.Key)))
				if st.Error != "" {
					fmt.Fprintf(&b, " (%s)", view.Clean(st.Error))
				}
				b.WriteString(":\n")
				for line := range strings.SplitSeq(tail, "\n") {
					b.WriteString("  │ " + view.Clean(line) + "\n")
				}
			}
			if len(st.Stages) > 0 {
				walk(st.Stages, keyPath(keys, st.Key))
			}
		}
	}
	walk(r.Stages, "")
	return b.String()
}

// keyPath is runtree.Row.KeyPath: the keys from the top, joined by "/".
func keyPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "/" + key
}
