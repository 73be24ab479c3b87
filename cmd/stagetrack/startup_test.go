//go:build unix

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestStartupInitWork runs stagetrack --version with GODEBUG=inittrace=1
// and checks what package initialisation costs every command, by
// allocations (deterministic, unlike its time): the JSON Schema library,
// whose init compiled five meta-schemas (1.7 MB, 21,000 allocations), is
// not linked; no package of this module allocates more than 1 KB at init
// (a parsed template, a compiled pattern); and the whole start-up allocates
// less than 500 KB (about 450 KB now: 350 KB for the OTel, gRPC and
// protobuf packages that exec's exporters need, and 100 KB for the
// Collector's pdata, which the OTLP receiver of run decodes with, 11 times
// faster than the hand-written decoder it replaced; over 2 MB before).
//
// The program it runs is this test binary as stagetrack (runAsStagetrack):
// the same packages as the stagetrack go build makes, and the few that
// only a test binary links (testOnly), which are not counted.
func TestStartupInitWork(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), self, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", runAsStagetrack+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	total := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		pkg := f[1]
		if testOnly[pkg] {
			continue
		}
		bytes, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("cannot read %q", sc.Text())
		}
		total += bytes
		switch {
		case strings.HasPrefix(pkg, "github.com/santhosh-tekuri/jsonschema/v6") && pkg != "github.com/santhosh-tekuri/jsonschema/v6/kind":
			t.Errorf("%s is linked into stagetrack: its init runs in every command", pkg)
		case strings.HasPrefix(pkg, "github.com/stage-tracker/stage-tracker/") && bytes > 1024:
			t.Errorf("%s allocates %d bytes at init, in every command", pkg, bytes)
		}
	}
	if total == 0 {
		t.Fatalf("no inittrace lines in:\n%s", stderr.String())
	}
	t.Logf("start-up allocates %d bytes in package inits", total)
	if total > 500_000 {
		t.Errorf("package inits allocate %d bytes at start-up; want under 500,000", total)
	}
}

// testOnly are the packages with init work that a test binary of this
// package links and stagetrack does not: the testing framework, and
// go/parser for TestLayout.
var testOnly = map[string]bool{
	"main": true, "testing": true, "internal/fuzz": true, "internal/sysinfo": true,
	"go/parser": true, "go/scanner": true,
}
