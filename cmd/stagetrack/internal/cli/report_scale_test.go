package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
)

// TestReportManyRuns checks report on a directory's worth of run files
// given in no particular order: a summary first, the newest --charts runs
// in full, newest first, the rest in the collapsed list.
func TestReportManyRuns(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 30 {
		r := runfixture.Synthetic(i)
		// names unrelated to the order of the runs
		p := filepath.Join(dir, fmt.Sprintf("%02d.json", (i*7)%30))
		if err := os.WriteFile(p, r.AppendIndent(nil), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	cases := []struct {
		name   string
		flags  []string
		charts int
		code   int
	}{
		{"default", nil, 10, cli.ExitOK},
		{"--charts 3", []string{"--charts", "3"}, 3, cli.ExitOK},
		{"--charts 0", []string{"--charts", "0"}, 0, cli.ExitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, append(append([]string{"report", "-o", "-"}, c.flags...), files...)...)
			wantCode(t, r, c.code)
			if c.code != cli.ExitOK {
				return
			}
			html := r.stdout
			if !strings.Contains(html, `<section class="summary"`) {
				t.Error("no summary")
			}
			if got := strings.Count(html, `<section class="run"`); got != c.charts {
				t.Errorf("%d charts, want %d", got, c.charts)
			}
			first := runfixture.Synthetic(29).RunID // the newest
			if i, j := strings.Index(html, `data-run-id="`+first+`"`), strings.Index(html, `<section class="run"`); i < 0 || i > j+40 {
				t.Errorf("the newest run %s is not the first chart", first)
			}
			if got := strings.Count(html, `<tr id="run-`); got != 30-c.charts {
				t.Errorf("%d runs in the list, want %d", got, 30-c.charts)
			}
		})
	}
}
