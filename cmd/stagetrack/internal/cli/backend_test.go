//go:build unix

package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// silentServer accepts connections on 127.0.0.1 and never answers, like a
// backend that hangs. Connections are closed when the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// deadAddr is an address on 127.0.0.1 where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// logTimestamp is how the standard logger starts a line: the SDK's default
// error handler, which stagetrack must replace.
var logTimestamp = regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d`)

// TestBackendDownCostsAboutASecond: a dead or never-answering OTLP endpoint
// adds about a second to exec and run, prints at most a few warning lines,
// and changes neither the exit code nor the run file.
//
// Each case waits out the export timeout, about a second: by default one
// case of each protocol runs (a silent server for exec, a dead port for
// run), every protocol, endpoint and command under STAGE_TRACKER_STRESS=1.
func TestBackendDownCostsAboutASecond(t *testing.T) {
	bin := buildBinaries(t)
	cases := []struct {
		name, protocol string
		addr           func(*testing.T) string
		always         string // the command that runs without STAGE_TRACKER_STRESS=1
	}{
		{"http/protobuf, dead port", "http/protobuf", deadAddr, ""},
		{"http/protobuf, silent server", "http/protobuf", silentServer, "exec"},
		{"grpc, dead port", "grpc", deadAddr, "run"},
		{"grpc, silent server", "grpc", silentServer, ""},
	}
	stress := os.Getenv("STAGE_TRACKER_STRESS") == "1"
	for _, tc := range cases {
		for _, sub := range []string{"exec", "run"} {
			if !stress && sub != tc.always {
				continue
			}
			t.Run(tc.name+", "+sub, func(t *testing.T) {
				work := t.TempDir()
				env := userEnv("OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL="+tc.protocol,
					"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+tc.addr(t))
				argv := []string{bin.stagetrack, sub, "-q", "--", "sh", "-c", "exit 0"}
				if sub == "exec" {
					argv = []string{bin.stagetrack, sub, "--", "sh", "-c", "exit 0"}
				}
				start := time.Now()
				r := runAsUser(t, work, env, argv...)
				took := time.Since(start)
				if r.code != 0 {
					t.Fatalf("exit %d, stderr %q; want 0: the run file was written", r.code, r.stderr)
				}
				// About a second of export timeout, plus the process and
				// the shutdown slack; main took 10 s to 30 s here.
				if took > 4*time.Second {
					t.Errorf("took %v; want about a second", took)
				}
				if logTimestamp.MatchString(r.stderr) {
					t.Errorf("stderr has log timestamps:\n%s", r.stderr)
				}
				if n := strings.Count(r.stderr, "\n"); n > 3 {
					t.Errorf("stderr has %d lines; want a warning or two:\n%s", n, r.stderr)
				}
				_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
				if rf.Status != runfile.StatusOK {
					t.Errorf("run status %q; want ok", rf.Status)
				}
			})
		}
	}
}

// TestUnusableDirStopsBeforeCommand: run and exec check --dir before CMD
// runs; an unusable one is one line, exit 2, and CMD never starts.
func TestUnusableDirStopsBeforeCommand(t *testing.T) {
	bin := buildBinaries(t)
	for _, sub := range []string{"run", "exec"} {
		t.Run(sub, func(t *testing.T) {
			work := t.TempDir()
			if err := os.WriteFile(filepath.Join(work, "file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, dir := range []string{"file", "file/runs"} {
				marker := filepath.Join(work, "ran")
				r := runAsUser(t, work, userEnv(), bin.stagetrack, sub, "--dir", dir, "--", "touch", marker)
				if r.code != 2 {
					t.Errorf("--dir %s: exit %d; want 2", dir, r.code)
				}
				if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "--dir "+dir) {
					t.Errorf("--dir %s: stderr %q; want one line naming --dir %s", dir, r.stderr, dir)
				}
				if _, err := os.Stat(marker); err == nil {
					t.Errorf("--dir %s: the command ran", dir)
				}
			}
		})
	}
}

// TestRunStartErrorSaidOnce: a command that cannot start is named once on
// stderr, in the run's summary (main printed it a second time after it).
func TestRunStartErrorSaidOnce(t *testing.T) {
	bin := buildBinaries(t)
	for _, quiet := range []bool{false, true} {
		argv := []string{bin.stagetrack, "run", "--", "/nonexistent/cmd"}
		if quiet {
			argv = []string{bin.stagetrack, "run", "-q", "--", "/nonexistent/cmd"}
		}
		r := runAsUser(t, t.TempDir(), userEnv(), argv...)
		if r.code != 127 {
			t.Errorf("quiet %v: exit %d; want 127", quiet, r.code)
		}
		if n := strings.Count(r.stderr, "no such file or directory"); n != 1 {
			t.Errorf("quiet %v: the reason is said %d times:\n%s", quiet, n, r.stderr)
		}
	}
}
