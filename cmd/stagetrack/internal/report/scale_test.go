package report_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// manyRuns returns n synthetic runs of ten stages each, shuffled, as file
// names that are UUIDs list them.
func manyRuns(n int) []report.Input {
	in := make([]report.Input, n)
	for i := range n {
		r := runfixture.Synthetic(i)
		at := r.CompletedAt
		for _, name := range []string{"lint", "package"} {
			d := 120 * time.Millisecond
			r.Stages = append(r.Stages, runfile.Stage{Key: name, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d),
				DurationSec: d.Seconds(), Status: runfile.StageOK, Data: json.RawMessage(`{"ok":true}`)})
			at = at.Add(d)
		}
		r.CompletedAt, r.TotalDurationSec = at, at.Sub(r.StartTime).Seconds()
		in[i] = report.Input{File: r.RunID + ".json", Run: r}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { in[i], in[j] = in[j], in[i] })
	return in
}

func write(t *testing.T, in []report.Input, o report.Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, in, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var runIDRE = regexp.MustCompile(`data-run-id="([^"]+)"|<tr id="run-\d+"><td><span class="badge [a-z]+">[a-z]+</span></td><td>(?:[^<]* )?<span class="runid mono">([^<]+)</span>`)

// TestWriteOrder checks that runs appear newest first whatever the order
// of the arguments, in the charts and in the collapsed list alike.
func TestWriteOrder(t *testing.T) {
	html := write(t, manyRuns(40), report.Options{Charts: 5})
	var ids []string
	for _, m := range runIDRE.FindAllStringSubmatch(html, -1) {
		ids = append(ids, m[1]+m[2])
	}
	if len(ids) != 40 {
		t.Fatalf("found %d runs in the page, want 40", len(ids))
	}
	for i, id := range ids { // Synthetic(i) starts i hours after the first
		if want := runfixture.Synthetic(39 - i).RunID; id != want {
			t.Fatalf("run %d on the page is %s, want %s (newest first)", i, id, want)
		}
	}
}

// TestWriteSummary checks the summary at the top of the page: counts,
// per-stage median and p95, the trend chart, newest failures first.
func TestWriteSummary(t *testing.T) {
	html := write(t, manyRuns(50), report.Options{})
	sum, _, ok := strings.Cut(html, `<p class="sub">`)
	if !ok || !strings.Contains(sum, `<section class="summary"`) {
		t.Fatal("no summary before the runs")
	}
	// Synthetic: evaluate fails in every 10th run, upload is unfinished in
	// every 25th; of 50 runs, 5+2-1 (run 49 has both) fail.
	for _, want := range []string{
		`<div class="n">50</div><div class="k">runs</div>`,
		`<div class="n">44</div><div class="k">passed</div>`,
		`<div class="n">6</div><div class="k">failed</div>`,
		`<th>median</th><th>p95</th>`,
		`<td style="padding-left:1em">epoch</td><td>150</td>`,
		`<td style="padding-left:0em">evaluate</td><td>50</td><td class="bad">5 (10.0%)</td>`,
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	trend := regexp.MustCompile(`(?s)<svg class="trend".*?</svg>`).FindString(sum)
	if trend == "" {
		t.Fatal("no trend chart")
	}
	for _, series := range []string{"run", "train", "fetch"} {
		m := regexp.MustCompile(`data-series="` + series + `" fill="none" stroke="[^"]+" points="([^"]+)"`).FindStringSubmatch(trend)
		if m == nil {
			t.Errorf("no %s line in the trend chart", series)
		} else if n := len(strings.Fields(m[1])); n != 50 {
			t.Errorf("%s line has %d points, want one per run (50)", series, n)
		}
	}
	if n := strings.Count(trend, `<circle class="fail"`); n != 6 {
		t.Errorf("%d failed runs marked, want 6", n)
	}
	// Newest failures: runs 49, 39, 29, 24, 19, 9 (in that order).
	var got []string
	for _, m := range regexp.MustCompile(`<li><a href="#(run-\d+)">`).FindAllStringSubmatch(sum, -1) {
		got = append(got, m[1])
	}
	want := []string{"run-0", "run-10", "run-20", "run-25", "run-30", "run-40"} // positions, newest first
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("failures link to %v, want %v", got, want)
	}
}

// TestWriteTimes checks that times are readable with the ISO value on hover.
func TestWriteTimes(t *testing.T) {
	r := runfixture.Synthetic(0)
	html := write(t, []report.Input{{Run: r}}, report.Options{})
	// html/template writes the + of the offset as &#43; in attributes.
	want := `<time datetime="2025-05-05T23:14:10.235518&#43;00:00" title="2025-05-05T23:14:10.235518&#43;00:00">Mon 5 May 2025, 23:14:10 UTC</time>`
	if got := strings.ReplaceAll(r.StartTime.UTC().Format(runfile.TimeLayout), "+", "&#43;"); !strings.Contains(want, got) {
		t.Fatalf("fixture start %s changed; update the test", got)
	}
	if !strings.Contains(html, want) {
		t.Errorf("report lacks %s", want)
	}
}

// TestWriteScales checks that the report of 1,000 runs of ten stages stays
// under 3 MB (main wrote 11.7 MB), charts only the newest runs and lists
// the others in a collapsed <details>.
func TestWriteScales(t *testing.T) {
	const n, bound = 1000, 3 << 20
	cases := []struct {
		name   string
		o      report.Options
		charts int
	}{
		{"default", report.Options{}, report.DefaultCharts},
		{"25 charts", report.Options{Charts: 25}, 25},
	}
	in := manyRuns(n)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			html := write(t, in, c.o)
			if len(html) > bound {
				t.Errorf("report of %d runs is %d bytes, want under %d", n, len(html), bound)
			}
			t.Logf("%d runs: %d bytes", n, len(html))
			if got := strings.Count(html, `<section class="run"`); got != c.charts {
				t.Errorf("%d charts, want %d", got, c.charts)
			}
			list := regexp.MustCompile(`(?s)<details class="more".*?</details>`).FindString(html)
			if strings.Contains(list, "<details class=\"more\" id=\"more\" open") || list == "" {
				t.Fatal("older runs are not in a closed <details>")
			}
			if got := strings.Count(list, `<tr id="run-`); got != n-c.charts {
				t.Errorf("%d runs in the collapsed list, want %d", got, n-c.charts)
			}
		})
	}
}
