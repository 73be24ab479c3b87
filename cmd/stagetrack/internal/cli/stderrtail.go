package cli

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
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
	n := len(p) // all of p is taken, kept or not: less is a short write to io.MultiWriter
	if len(p) > tailBytes {
		p, w.buf, w.cut = p[len(p)-tailBytes:], w.buf[:0], true
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > 2*tailBytes {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailBytes:]...)
		w.cut = true
	}
	return n, nil
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
//
// The OTLP headers' credentials go first, as exact strings (the bearer
// token stagetrack run gives its children, whatever words surround it in
// the text): a pattern would leave "Authorization: [REDACTED] <token>".
func redactText(text string, environ []string) string {
	for _, s := range headerSecrets(environ) {
		text = strings.ReplaceAll(text, s, tracker.Redacted)
	}
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

// headerSecrets returns the credentials in the OTLP headers variables of
// environ (OTEL_EXPORTER_OTLP_HEADERS and the per-signal ones), as exact
// strings, longest first: each header value as given and percent-decoded,
// and the credential after its scheme ("Bearer <token>": the token).
// Values shorter than 6 bytes are left: they would redact ordinary words.
func headerSecrets(environ []string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= 6 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "OTEL_EXPORTER_OTLP_") || !strings.HasSuffix(k, "HEADERS") {
			continue
		}
		for h := range strings.SplitSeq(v, ",") {
			_, val, ok := strings.Cut(h, "=")
			if !ok {
				continue
			}
			add(val)
			if dec, err := url.PathUnescape(val); err == nil {
				val = dec
				add(val)
			}
			if _, cred, ok := strings.Cut(strings.TrimSpace(val), " "); ok {
				add(cred)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// redactHeaderSecrets replaces the OTLP headers' credentials (headerSecrets)
// in the strings of data, a decoded JSON object that CMD wrote (its data
// file), keys and nested values included.
func redactHeaderSecrets(data map[string]any, environ []string) map[string]any {
	secrets := headerSecrets(environ)
	if len(secrets) == 0 {
		return data
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			for _, s := range secrets {
				v = strings.ReplaceAll(v, s, tracker.Redacted)
			}
			return v
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, x := range v {
				out[walk(k).(string)] = walk(x)
			}
			return out
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
			return v
		}
		return v
	}
	return walk(data).(map[string]any)
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
