package jsonrunexporter_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestModuleImportsNoRootInternal: the collector module's own packages
// (sources and tests, the e2e ones included) import nothing under the root
// module's internal/ directories. The root module's public packages may
// (jsonrun, tracker do); a Collector built from this module must still
// compile against the root's public API alone, so that the root can
// reshape its internals freely.
func TestModuleImportsNoRootInternal(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.CommandContext(t.Context(), gobin, "list", "-tags", "e2e",
		"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}`,
		"./...")
	cmd.Dir = ".." // the collector module's root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	const root = "github.com/stage-tracker/stage-tracker/"
	pkgs := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkgs++
		for _, imp := range fields[1:] {
			rel, ok := strings.CutPrefix(imp, root)
			if ok && !strings.HasPrefix(rel, "collector/") && (strings.HasPrefix(rel, "internal/") || strings.Contains(rel, "/internal/")) {
				t.Errorf("%s imports %s, under the root module's internal/", fields[0], imp)
			}
		}
	}
	if pkgs < 4 {
		t.Errorf("go list saw %d packages of the collector module; want its 4 or more:\n%s", pkgs, out)
	}
}
