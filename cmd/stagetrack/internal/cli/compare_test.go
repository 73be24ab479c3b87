package cli_test

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runcompare"
)

// compareRuns writes two experiments that differ in seed, accuracy and
// train's duration, with a stage name and a parameter that try to break
// every format: a cell separator, a line break, markup, a formula.
func compareRuns(t *testing.T) (dir, hostile string) {
	t.Helper()
	hostile = "tr|ain,\"x\"\n<img src=x>`[l](http://e)`\x1b[31m"
	dir = t.TempDir()
	experiment{id: 2, stage: hostile, accuracy: 0.85, train: 12, args: `{"lr":-0.5,"seed":12,"note":"=HYPERLINK(\"http://e\")"}`}.write(t, dir)
	experiment{id: 1, stage: hostile, accuracy: 0.91, args: `{"lr":-0.5,"seed":1,"note":"=HYPERLINK(\"http://e\")"}`}.write(t, dir)
	return dir, hostile
}

func TestCompareFormats(t *testing.T) {
	dir, hostile := compareRuns(t)
	t.Run("table", func(t *testing.T) {
		r := stagetrack(t, "compare", dir)
		wantCode(t, r, cli.ExitOK)
		for _, want := range []string{
			"RUN 00000001 00000002", "≠ seed 1 12", "lr -0.5 -0.5",
			"≠ evaluate.accuracy 0.91 0.85", "preprocess.rows 1000 1000", "≠ evaluate.accuracy 0.91 0.85",
			"preprocess 2.00s 2.00s", "≠ (run) 13.0s 15.0s",
		} {
			if !hasLine(r.stdout, want) {
				t.Errorf("no line %q in\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "\x1b") || strings.Contains(r.stdout, "\n<img") {
			t.Errorf("a stage name reached the terminal as it is:\n%s", r.stdout)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		r := stagetrack(t, "compare", "--format", "markdown", dir)
		wantCode(t, r, cli.ExitOK)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		for _, l := range lines {
			// Every row has its four cells, whatever the names hold.
			unescaped := strings.Count(l, "|") - strings.Count(l, `\|`)
			if !strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "|---") || unescaped != 5 {
				t.Errorf("row %q has %d cell separators, want 5", l, unescaped)
			}
		}
		unescaped := regexp.MustCompile(`\\.`).ReplaceAllString(r.stdout, "")
		for _, bad := range []string{"<img", "](http", "`", "\x1b"} {
			if strings.Contains(unescaped, bad) {
				t.Errorf("markdown holds %q unescaped:\n%s", bad, r.stdout)
			}
		}
		for _, want := range []string{
			"| kind | name | 00000001 | 00000002 |",
			"| parameter | seed | 1 | 12 |",
			`| data | evaluate\.accuracy | 0\.91 | 0\.85 |`,
			"| duration | tr\\|ain\\,&quot;x&quot; &lt;img src\\=x&gt;\\`\\[l\\]\\(http\\:\\/\\/e\\)\\`\uFFFD\\[31m | 10\\.0s | 12\\.0s |",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("markdown lacks %q:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := stagetrack(t, "compare", "--format", "csv", dir)
		wantCode(t, r, cli.ExitOK)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v\n%s", err, r.stdout)
		}
		rows := map[string][]string{}
		for _, rec := range recs {
			if len(rec) != 4 {
				t.Errorf("record %q has %d fields, want 4", rec, len(rec))
				continue
			}
			rows[rec[0]+" "+rec[1]] = rec[2:]
		}
		for key, want := range map[string]string{
			"parameter seed":            "1,12",
			"parameter lr":              "-0.5,-0.5",
			"parameter note":            `'=HYPERLINK("http://e"),'=HYPERLINK("http://e")`,
			"data evaluate.accuracy":    "0.91,0.85",
			"duration " + hostile:       "10,12",
			"data " + hostile + ".loss": "0.3,0.3",
			"status ":                   "ok,ok",
			"kind key":                  "00000001-0000-4000-8000-000000000000,00000002-0000-4000-8000-000000000000",
		} {
			if got := strings.Join(rows[key], ","); got != want {
				t.Errorf("%q = %q, want %q", key, got, want)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		r := stagetrack(t, "compare", "--format", "json", dir)
		wantCode(t, r, cli.ExitOK)
		var m runcompare.Matrix
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		got := map[string]string{}
		for _, row := range m.Rows {
			var vs []string
			for _, v := range row.Values {
				vs = append(vs, string(v))
			}
			got[row.Kind+" "+row.Key] = strings.Join(vs, ",")
		}
		for key, want := range map[string]string{
			"parameter seed":         "1,12",
			"data evaluate.accuracy": "0.91,0.85",
			"duration " + hostile:    "10,12",
			"duration (run)":         "13,15",
		} {
			if got[key] != want {
				t.Errorf("%q = %q, want %q", key, got[key], want)
			}
		}
		if len(m.Runs) != 2 || m.Runs[0].RunID != "00000001-0000-4000-8000-000000000000" {
			t.Errorf("runs %+v, want the two, oldest first", m.Runs)
		}
	})
}

func TestCompareChanged(t *testing.T) {
	dir, hostile := compareRuns(t)
	r := stagetrack(t, "compare", "--changed", "--format", "csv", dir)
	wantCode(t, r, cli.ExitOK)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs[2:] {
		got = append(got, rec[0]+" "+rec[1])
	}
	want := []string{"parameter seed", "data evaluate.accuracy", "duration " + hostile, "duration (run)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want only those that differ: %q", got, want)
	}
}

func TestCompareUsage(t *testing.T) {
	dir, _ := compareRuns(t)
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no run", []string{"compare"}, cli.ExitUsage},
		{"unknown format", []string{"compare", "--format", "html", dir}, cli.ExitUsage},
		{"missing file", []string{"compare", dir + "/nope.json"}, cli.ExitFailure},
		{"empty directory", []string{"compare", t.TempDir()}, cli.ExitFailure}, // as every command that resolves runs
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, stagetrack(t, c.args...), c.code)
		})
	}
}
