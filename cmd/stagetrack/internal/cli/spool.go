package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/runid"
	"github.com/stage-tracker/stage-tracker/otlpspans"
	"github.com/stage-tracker/stage-tracker/setup"
)

// The spool: spans that an OTLP export from exec (or run) could not
// deliver, kept on disk until "stagetrack send" sends them. One file per
// failed batch, OTLP/JSON (an ExportTraceServiceRequest, as any OTLP/HTTP
// endpoint takes it), named <run_id>-<random>.otlp.json, mode 0600 in a
// directory of mode 0700: spans carry stage data and errors.

// EnvSpool names the spool directory; by default it is stagetrack/spool in
// the user's cache directory ($XDG_CACHE_HOME, ~/.cache, ~/Library/Caches,
// %LocalAppData%).
const EnvSpool = "STAGETRACK_SPOOL"

// spoolSuffix ends the name of every spool file.
const spoolSuffix = ".otlp.json"

// maxSpoolFile bounds what send reads of one spool file: a batch of the
// SDK's 512 spans at their attribute limits is far smaller.
const maxSpoolFile = 64 << 20

// sendSpool sends the spool files in dir (of run runID only, when it is
// not ""), one export each, and reports each on w; it returns the files
// and spans sent, and an error per file that stays.
func sendSpool(ctx context.Context, exp sdktrace.SpanExporter, dir, runID string, w io.Writer) (files, spans int, errs []error) {
	paths, err := spoolFiles(dir, runID)
	if err != nil {
		return 0, 0, []error{err}
	}
	for _, p := range paths {
		n, err := sendSpoolFile(ctx, exp, p)
		if errors.Is(err, errSpoolBusy) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("spool: %w", err))
			continue
		}
		files++
		spans += n
		fmt.Fprintf(w, "sent spool file %s: %s\n", filepath.Base(p), plural(n, "span"))
	}
	return files, spans, errs
}

// spoolDir returns the spool directory that env names.
func spoolDir(env *Env) (string, error) {
	if d := env.getenv(EnvSpool); d != "" {
		return filepath.Abs(d)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("spool: no cache directory (%v); set %s", err, EnvSpool)
	}
	return filepath.Join(cache, "stagetrack", "spool"), nil
}

// spooler keeps what an OTLP exporter failed to deliver. It is safe for
// concurrent use.
type spooler struct {
	dir string
	w   io.Writer // where the one line per kept batch goes

	mu     sync.Mutex
	failed bool     // an export failed, kept or not
	kept   []string // the files written
	// exporting counts the exports under way, and idle is closed when it
	// drops to 0: an export that a flush gave up waiting for still ends,
	// and keeps its spans, before the process exits (settle).
	exporting int
	idle      chan struct{}
}

// begin and end count an export in and out.
func (s *spooler) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exporting == 0 {
		s.idle = make(chan struct{})
	}
	s.exporting++
}

func (s *spooler) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exporting--
	if s.exporting == 0 {
		close(s.idle)
	}
}

// settleTimeout bounds settle: an export whose context has ended returns
// at once; the spool write is one small file.
const settleTimeout = 2 * time.Second

// settle waits, at most settleTimeout, for the exports under way to end
// and keep what they failed to send: a provider whose flush timed out
// returns before its exporter does.
func (s *spooler) settle() {
	if s == nil {
		return
	}
	s.mu.Lock()
	done := s.idle
	busy := s.exporting > 0
	s.mu.Unlock()
	if !busy {
		return
	}
	t := time.NewTimer(settleTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// wrap returns exp, keeping in the spool what it fails to deliver.
func (s *spooler) wrap(exp sdktrace.SpanExporter) sdktrace.SpanExporter {
	return &spoolExporter{SpanExporter: exp, s: s}
}

// exportFailed reports whether an export failed, and the files kept; no
// spooler saw no failure.
func (s *spooler) exportFailed() (bool, []string) {
	if s == nil {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed, slices.Clone(s.kept)
}

// spoolExporter is an exporter whose failed batches go to the spool: the
// export then succeeds as far as the batch processor knows, and one line
// on stderr says where the spans are.
type spoolExporter struct {
	sdktrace.SpanExporter
	s *spooler
}

func (e *spoolExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.s.begin()
	defer e.s.end()
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil || len(spans) == 0 {
		return err
	}
	e.s.mu.Lock()
	e.s.failed = true
	e.s.mu.Unlock()
	path, kerr := keepSpans(e.s.dir, spans)
	if kerr != nil {
		return errors.Join(err, kerr)
	}
	e.s.mu.Lock()
	e.s.kept = append(e.s.kept, path)
	e.s.mu.Unlock()
	fmt.Fprintf(e.s.w, "stagetrack: OTLP export failed (%s); %s kept in %s: \"stagetrack send\" sends it\n",
		oneLine(err), plural(len(spans), "span"), path)
	return nil
}

// keepSpans writes spans to a new file in dir, whole or not at all (a
// send that lists dir meanwhile sees no half file), and returns its path.
func keepSpans(dir string, spans []sdktrace.ReadOnlySpan) (string, error) {
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(otlpspans.ToTraces(spans))
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	path := filepath.Join(dir, spoolRunID(spans)+"-"+hex.EncodeToString(rnd[:])+spoolSuffix)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	// 0600 whatever the umask, as journals.
	merr := tmp.Chmod(0o600)
	_, werr := tmp.Write(b)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(merr, werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("spool: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("spool: %w", err)
	}
	return path, nil
}

// spoolRunID is the run the spans belong to, for the file's name: the
// first stage_tracker.run.id among them, else "spans".
func spoolRunID(spans []sdktrace.ReadOnlySpan) string {
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if kv.Key == keys.RunID {
				if id, err := runid.Canonical(kv.Value.AsString()); err == nil {
					return id
				}
			}
		}
	}
	return "spans"
}

// spoolFiles lists the spool files in dir, of run runID only when it is
// not "", oldest name first. A missing dir is an empty spool.
func spoolFiles(dir, runID string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, spoolSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		if runID != "" && !strings.HasPrefix(name, runID+"-") {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out, nil
}

// errSpoolBusy: another send holds the spool file.
var errSpoolBusy = errors.New("another send is sending it")

// sendSpoolFile sends the spans of one spool file with exp, and removes
// the file once exp has delivered them: what was acknowledged is not sent
// again, what was not stays. The file's lock keeps two sends from sending
// it both. It returns how many spans it sent.
func sendSpoolFile(ctx context.Context, exp sdktrace.SpanExporter, path string) (int, error) {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if free, err := fsutil.TryLockExclusive(f); err != nil || !free {
		return 0, errSpoolBusy
	}
	if !fsutil.SameFile(f, path) {
		return 0, errSpoolBusy // sent and removed while this send waited
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSpoolFile+1))
	if err != nil {
		return 0, err
	}
	if len(b) > maxSpoolFile {
		return 0, fmt.Errorf("%s is larger than %d bytes: not a spool file", path, maxSpoolFile)
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
	if err != nil {
		return 0, fmt.Errorf("%s is not OTLP/JSON: %w", path, err)
	}
	spans, _ := otlpspans.FromTraces(td)
	if len(spans) > 0 {
		if err := exp.ExportSpans(ctx, spans); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return len(spans), fmt.Errorf("sent, but: %w", err)
	}
	return len(spans), nil
}

// newSpooler returns the spooler of the spool env names, or nil when
// there is no spool directory (no $HOME, no STAGETRACK_SPOOL): a failed
// export is then the warning line it always was.
func newSpooler(env *Env) *spooler {
	dir, err := spoolDir(env)
	if err != nil {
		return nil
	}
	return &spooler{dir: dir, w: env.Stderr}
}

// option is the setup option that puts s behind the OTLP exporter.
func (s *spooler) option() []setup.Option {
	if s == nil {
		return nil
	}
	return []setup.Option{setup.WithOTLPExporterWrapper(s.wrap)}
}

// strictError is --strict-export's failure: nil unless an export failed.
func (s *spooler) strictError() error {
	failed, kept := s.exportFailed()
	switch {
	case !failed:
		return nil
	case len(kept) > 0:
		return fmt.Errorf("--strict-export: the OTLP export failed; its spans are in the spool (%s)", strings.Join(kept, ", "))
	}
	return errors.New("--strict-export: the OTLP export failed")
}

// pickUpSpool sends what the run's steps kept in the spool (spool files
// of run runID) to the OTLP endpoint of this process, when
// OTEL_TRACES_EXPORTER selects otlp: run and finish call it once the run
// is recorded. It takes at most one export timeout; it says what it sent
// in one line, and what it could not in one warning line (the files stay,
// for send). With nothing to send, it says nothing.
func pickUpSpool(ctx context.Context, env *Env, runID string) {
	if !slices.Contains(strings.Split(strings.ReplaceAll(env.getenv("OTEL_TRACES_EXPORTER"), " ", ""), ","), setup.ExporterOTLP) {
		return
	}
	dir, err := spoolDir(env)
	if err != nil {
		return
	}
	if paths, err := spoolFiles(dir, runID); err != nil || len(paths) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), setup.ExportTimeout(cliExportTimeout)+shutdownSlack)
	defer cancel()
	exp, _, err := setup.OTLPExporter(ctx, env.getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: warning: the spool's spans of run %s stay for \"stagetrack send\": %s\n", runID, oneLine(err))
		return
	}
	files, spans, errs := sendSpool(ctx, exp, dir, runID, io.Discard)
	errs = append(errs, exp.Shutdown(ctx))
	if files > 0 {
		fmt.Fprintf(env.Stderr, "stagetrack: sent %s that steps of run %s had kept in the spool\n", plural(spans, "span"), runID)
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: warning: spans of run %s stay in the spool for \"stagetrack send\": %s\n", runID, oneLine(err))
	}
}
