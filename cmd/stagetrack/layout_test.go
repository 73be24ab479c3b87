package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/stage-tracker/stage-tracker"

// TestLayoutDependencies holds the package rules of docs/design.md with
// `go list -deps`: the run file's format and the viewers read run files
// without linking the exporter or the OpenTelemetry SDK, and the two
// library packages link nothing heavier than the OTel API and SDK and
// google/uuid.
func TestLayoutDependencies(t *testing.T) {
	tests := []struct {
		name     string
		pkgs     []string
		refuse   []string // import path prefixes none of pkgs may link
		onlyFrom []string // when set: every non-standard dependency has one of these prefixes
	}{
		{
			name: "format and viewers link no SDK and no exporter",
			pkgs: []string{
				"runfile",
				"cmd/stagetrack/internal/view",
				"cmd/stagetrack/internal/report",
				"cmd/stagetrack/internal/rundiff",
				"cmd/stagetrack/internal/runstats",
				"cmd/stagetrack/internal/runtree",
				"cmd/stagetrack/internal/runschema",
			},
			refuse: []string{"go.opentelemetry.io/otel", module + "/exporter/", module + "/tracker"},
		},
		{
			name:     "tracker and jsonrun link only the OTel API and SDK (and what it links) and uuid",
			pkgs:     []string{"tracker", "exporter/jsonrun"},
			onlyFrom: []string{"go.opentelemetry.io/otel", "go.opentelemetry.io/auto/sdk", "github.com/go-logr/", "github.com/google/uuid", "github.com/cespare/xxhash", "golang.org/x/sys/", module + "/"},
			refuse:   []string{module + "/cmd/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range tt.pkgs {
				out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", module+"/"+p).CombinedOutput()
				if err != nil {
					t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
				}
				for dep := range strings.FieldsSeq(string(out)) {
					for _, bad := range tt.refuse {
						if strings.HasPrefix(dep, bad) {
							t.Errorf("%s links %s", p, dep)
						}
					}
					if len(tt.onlyFrom) > 0 && !hasAnyPrefix(dep, tt.onlyFrom) {
						t.Errorf("%s links %s, which is not among the allowed dependencies", p, dep)
					}
				}
			}
		})
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
