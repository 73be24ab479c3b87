//go:build unix

package cli_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestTrustCommands runs the trust cases of the built stagetrack (issue
// 20), sharing one build.
func TestTrustCommands(t *testing.T) {
	bin := buildBinaries(t)
	t.Run("run id spellings of a started run's steps", func(t *testing.T) { testStartedRunIDSpellings(t, bin) })
	t.Run("run's journal 0600 and its token redacted", func(t *testing.T) { testRunJournalModeAndTokenRedacted(t, bin) })
	t.Run("run sends its steps' spool", func(t *testing.T) { testRunSendsItsStepsSpool(t, bin) })
}

// testStartedRunIDSpellings: the steps of a started run that spell its id
// in upper case or as a urn:uuid: (a CI system that reformats variables)
// record into the run's one file, under the lower-case id, which validate
// accepts; its journal is 0600 under a umask of 000. On main, exec and
// finish refused the other spellings as another run's.
func testStartedRunIDSpellings(t *testing.T, bin binaries) {
	work := t.TempDir()
	if r := step(t, work, bin, nil, `umask 000; "$ST" start --name ci --env-file job.env`); r.code != 0 {
		t.Fatalf("start: exit %d stderr %q", r.code, r.stderr)
	}
	journals, _ := filepath.Glob(filepath.Join(work, "runs", "*"+jsonrun.JournalSuffix))
	if len(journals) != 1 {
		t.Fatalf("journals %v, want one", journals)
	}
	if fi, err := os.Stat(journals[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("start's journal: mode %v (%v), want 0600 whatever the umask", fi.Mode().Perm(), err)
	}
	steps := []string{
		`STAGE_TRACKER_RUN_ID=$(echo "$STAGE_TRACKER_RUN_ID" | tr a-f A-F) "$ST" exec --stage upper -- true`,
		`STAGE_TRACKER_RUN_ID="urn:uuid:$STAGE_TRACKER_RUN_ID" "$ST" exec --stage urn -- true`,
		`STAGE_TRACKER_RUN_ID="{$(echo "$STAGE_TRACKER_RUN_ID" | tr a-f A-F)}" "$ST" finish -q`,
	}
	for _, s := range steps {
		if r := step(t, work, bin, nil, s); r.code != 0 {
			t.Fatalf("%s: exit %d stderr %q", s, r.code, r.stderr)
		}
	}
	path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if filepath.Base(path) != rf.RunID+".json" || rf.RunID != strings.ToLower(rf.RunID) {
		t.Errorf("run file %s of run %s, want the lower-case id", path, rf.RunID)
	}
	if got := stageKeys(rf); got != "upper:ok,urn:ok" {
		t.Errorf("stages %s, want upper:ok,urn:ok", got)
	}
	if r := stagetrack(t, "validate", path); r.code != 0 {
		t.Errorf("validate: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// testRunJournalModeAndTokenRedacted: under stagetrack run with a umask
// of 000, the run's journal is 0600; a step whose stderr quotes the
// receiver's token (Authorization: Bearer T, token T) does not write it
// into the run file. On main the journal was 0666 & ~umask, and the tail
// kept "Authorization: [REDACTED] T".
func testRunJournalModeAndTokenRedacted(t *testing.T, bin binaries) {
	work := t.TempDir()
	script := `umask 000
find "$STAGE_TRACKER_JOURNAL" -perm 600 > mode
printf '%s' "$OTEL_EXPORTER_OTLP_TRACES_HEADERS" > headers
"$ST" exec --stage leak -- sh -c 'tok=${OTEL_EXPORTER_OTLP_TRACES_HEADERS#*%20}; echo "curl: 401 with Authorization: Bearer $tok" >&2; echo "token $tok" >&2; exit 3'
exit 0`
	r := step(t, work, bin, nil, `umask 000; "$ST" run -q -- sh -c '`+strings.ReplaceAll(script, `'`, `'\''`)+`'`)
	if r.code != 1 {
		t.Fatalf("run: exit %d, want 1 (a stage failed); stderr %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "mode")); strings.TrimSpace(string(b)) == "" {
		t.Errorf("the run's journal is not 0600 under umask 000")
	}
	h, err := os.ReadFile(filepath.Join(work, "headers"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := url.PathUnescape(strings.TrimPrefix(string(h), "authorization="))
	tok := strings.TrimPrefix(v, "Bearer ")
	if len(tok) != 64 {
		t.Fatalf("token %q from %q, want 64 hex digits", tok, h)
	}
	path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), tok) {
		t.Errorf("the run file holds the receiver's token:\n%s", b)
	}
	leak, _ := rf.Stages.Get("leak")
	if !strings.Contains(string(leak.Data), "Authorization: [REDACTED]") || !strings.Contains(string(leak.Data), "token [REDACTED]") {
		t.Errorf("leak's data %s, want its stderr tail with the token redacted", leak.Data)
	}
}

// testRunSendsItsStepsSpool: a step whose own OTLP export failed kept its
// stage in the spool; the run, once recorded, sends it to the run's OTLP
// endpoint and empties the spool of that run.
func testRunSendsItsStepsSpool(t *testing.T, bin binaries) {
	srv, got, _ := flakyOTLP(t)
	work, spool := t.TempDir(), t.TempDir()
	env := []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL, cli.EnvSpool + "=" + spool}
	// The step sends to a port where nothing listens: refused at once.
	r := step(t, work, bin, env, `"$ST" run --name ci -- sh -c 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:1/v1/traces "$ST" exec --stage build -- true'`)
	if r.code != 0 {
		t.Fatalf("run: exit %d stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "kept in "+spool) || !strings.Contains(r.stderr, "had kept in the spool") {
		t.Errorf("run's stderr does not say the step's spans were kept, then sent:\n%s", r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "*")); len(left) != 0 {
		t.Errorf("spool after the run: %v, want empty", left)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if stageKeys(rf) != "build:"+runfile.StageOK {
		t.Errorf("run file stages %s, want build:ok", stageKeys(rf))
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	names := map[string]int{}
	for _, s := range got.spans {
		names[s.GetName()]++
	}
	if names["build"] != 1 || names["ci"] != 1 {
		t.Errorf("the endpoint got %v; want the run span ci and the step's build, once each", fmt.Sprint(names))
	}
}
