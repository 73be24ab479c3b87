package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/stage-tracker/stage-tracker/setup"
)

// cliExportTimeout bounds one export to an OTLP backend from run and exec
// when no OTEL_EXPORTER_OTLP_*TIMEOUT variable says otherwise: a dead or
// silent backend must not make a short command slow. The run file does not
// depend on the backend; it is written before the provider shuts down.
const cliExportTimeout = time.Second

// shutdownSlack is what shutting the provider down may take beyond one
// export: closing connections, the journaling processor's flush.
const shutdownSlack = 500 * time.Millisecond

// boundedShutdown wraps a provider's shutdown for run and exec: it gives up
// after one export timeout (plus slack), and reports a failure as one
// warning line on w instead of an error, because by then the run file is
// written and a backend that is down must not change the command's outcome.
func boundedShutdown(w io.Writer, shutdown func(context.Context) error) func(context.Context) error {
	limit := setup.ExportTimeout(cliExportTimeout) + shutdownSlack
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			fmt.Fprintf(w, "stagetrack: warning: spans may not have reached every exporter: %s\n", oneLine(err))
		}
		return nil
	}
}

// oneLine is err's message on one line: errors.Join puts a newline between
// the errors it joins.
func oneLine(err error) string {
	var b []byte
	for _, r := range err.Error() {
		if r == '\n' {
			b = append(b, "; "...)
			continue
		}
		b = append(b, string(r)...)
	}
	return string(b)
}

// ErrorHandler prints the errors that OpenTelemetry components report
// through otel.Handle (an exporter that cannot reach its backend, for one)
// as "stagetrack: warning: ..." lines, each distinct message once and at
// most maxWarnings in all, instead of the SDK's default of a log line with
// a timestamp for every failed batch. The stagetrack program installs it
// with otel.SetErrorHandler.
//
// An ErrorHandler is safe for concurrent use.
type ErrorHandler struct {
	w    io.Writer
	mu   sync.Mutex
	seen map[string]bool
	n    int
}

const maxWarnings = 5

// NewErrorHandler returns an ErrorHandler that writes to w.
func NewErrorHandler(w io.Writer) *ErrorHandler {
	return &ErrorHandler{w: w, seen: make(map[string]bool)}
}

// Handle prints err unless it was printed before or enough were.
func (h *ErrorHandler) Handle(err error) {
	if err == nil {
		return
	}
	msg := oneLine(err)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[msg] || h.n > maxWarnings {
		return
	}
	h.seen[msg] = true
	h.n++
	if h.n > maxWarnings {
		fmt.Fprintln(h.w, "stagetrack: warning: more exporter errors; not shown")
		return
	}
	fmt.Fprintf(h.w, "stagetrack: warning: %s\n", msg)
}

// checkDir makes sure dir can hold run files before a command runs: it is
// created if missing and a file can be made in it. The error is one line
// naming the flag, so that a typo costs nothing but the message.
func checkDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return dirError("--dir %s: not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return dirError("--dir %s: cannot create it: %s", dir, pathless(err))
	}
	f, err := os.CreateTemp(dir, ".stagetrack-probe-*")
	if err != nil {
		return dirError("--dir %s: cannot write in it: %s", dir, pathless(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// dirError is a usage error (exit 2) printed as one line, without the
// usage hint: the flag's value is wrong, not the command line's shape.
func dirError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: &reportedError{summary: fmt.Sprintf(format, args...)}}
}
