package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	eaw "golang.org/x/text/width"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// columns is the width of s on a terminal, measured independently of the
// views: two columns for wide and fullwidth East Asian characters.
func columns(s string) int {
	n := 0
	for _, r := range s {
		switch eaw.LookupRune(r).Kind() {
		case eaw.EastAsianWide, eaw.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// TestWideCharacters checks show and diff with CJK and emoji stage names:
// the output matches its golden file (columns aligned by display width)
// and no line is wider than asked for.
func TestWideCharacters(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		width int
	}{
		{"show-cjk-columns-90", []string{"show", wideFile("cjk")}, 90},
		{"show-cjk-width-60", []string{"show", "--width", "60", wideFile("cjk")}, 60},
		{"diff-cjk-width-70", []string{"diff", "--width", "70", wideFile("cjk"), wideFile("cjk-b")}, 70},
		{"diff-cjk-columns-90", []string{"diff", wideFile("cjk"), wideFile("cjk-b")}, 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := invocation{env: map[string]string{"COLUMNS": "90"}}
			r := in.run(t, c.args...)
			wantCode(t, r, cli.ExitOK)
			golden(t, filepath.Join("width", c.name+".golden"), r.stdout)
			for line := range strings.Lines(r.stdout) {
				if n := columns(strings.TrimRight(line, "\n")); n > c.width {
					t.Errorf("line of %d columns, want at most %d: %q", n, c.width, line)
				}
			}
		})
	}
}

// wideFile is a run file with wide characters, kept out of testdata/runs so
// that the stats goldens over that directory stay as they are.
func wideFile(name string) string { return filepath.Join("testdata", "wide", name+".json") }
