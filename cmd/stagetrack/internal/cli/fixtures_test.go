package cli_test

import (
	"os"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
)

// TestFixtureRunFiles checks that the run files in testdata/runs, which the
// golden tests and scripts/check-report.sh read, are what the tracker
// records for the fixture scripts today. -update rewrites them.
func TestFixtureRunFiles(t *testing.T) {
	fx, err := runfixture.Fixtures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fx {
		t.Run(f.Name, func(t *testing.T) {
			got := f.Run.AppendIndent(nil)
			path := runFile(f.Name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s is stale: the tracker now records\n%s", path, got)
			}
		})
	}
}
