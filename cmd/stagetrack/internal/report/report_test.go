package report_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func fixtures(t *testing.T) []report.Input {
	t.Helper()
	fx, err := runfixture.Fixtures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	in := make([]report.Input, len(fx))
	for i, f := range fx {
		in[i] = report.Input{File: f.Name + ".json", Run: f.Run}
	}
	return in
}

var barRE = regexp.MustCompile(`<rect class="bar[ "][^>]*>`)

func TestWriteBars(t *testing.T) {
	in := fixtures(t)
	cases := []struct {
		name string
		runs []report.Input
	}{
		{"one run", in[:1]},
		{"nested and unfinished stages", in[2:]},
		{"three runs", in},
		{"synthetic", []report.Input{{Run: runfixture.Synthetic(24)}}},
		{"no stages", []report.Input{{Run: &runfile.Run{RunID: "x", Status: "ok"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, c.runs, report.Options{}); err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, r := range c.runs {
				want += countStages(r.Run.Stages)
			}
			if got := len(barRE.FindAllString(b.String(), -1)); got != want {
				t.Errorf("%d bars, want one per stage: %d", got, want)
			}
			if got := strings.Count(b.String(), `<section class="run"`); got != len(c.runs) {
				t.Errorf("%d run sections, want %d", got, len(c.runs))
			}
		})
	}
}

func countStages(s runfile.Stages) int {
	n := len(s)
	for _, st := range s {
		n += countStages(st.Stages)
	}
	return n
}

// TestWriteEscapes checks that text from the run file cannot inject
// markup or script.
func TestWriteEscapes(t *testing.T) {
	evil := `</title><script>alert(1)</script><img src=x onerror=alert(2)>`
	r := runfixture.Synthetic(1)
	r.Name = evil
	r.Args = []byte(`{"q":"` + strings.ReplaceAll(evil, `"`, `\"`) + `"}`)
	r.Stages[0].Key, r.Stages[0].Name = evil, evil
	r.Stages[0].Error = evil
	r.Stages[0].Data = []byte(`{"html":"<b>bold</b>"}`)
	r.Status = `ok" onmouseover="alert(3)`
	var b bytes.Buffer
	if err := report.Write(&b, []report.Input{{File: evil, Run: r}}, report.Options{Title: evil}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script>alert", "<img", "<b>bold", `onmouseover="alert`} {
		if strings.Contains(html, bad) {
			t.Errorf("report contains %q unescaped", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the evil text is not shown escaped")
	}
	if strings.Count(html, "<script>") != 1 {
		t.Errorf("want exactly the report's own script, got %d", strings.Count(html, "<script>"))
	}
}

// TestWriteSelfContained checks that the report loads nothing from
// anywhere.
func TestWriteSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := report.Write(&b, fixtures(t), report.Options{}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, ref := range []string{`src=`, `<link`, `@import`, `url(http`, `fetch(`, `XMLHttpRequest`} {
		if strings.Contains(html, ref) {
			t.Errorf("report refers to something outside itself: %q", ref)
		}
	}
	// The only URL is the SVG namespace, which is a name, not a fetch.
	for _, m := range regexp.MustCompile(`https?://[^"'\s<]+`).FindAllString(html, -1) {
		if m != "http://www.w3.org/2000/svg" {
			t.Errorf("report contains URL %q", m)
		}
	}
}

// TestWriteSharedScale checks that bars of different runs are drawn on the
// same scale: a stage's width in pixels per second is the same in every
// chart.
func TestWriteSharedScale(t *testing.T) {
	var b bytes.Buffer
	if err := report.Write(&b, fixtures(t), report.Options{}); err != nil {
		t.Fatal(err)
	}
	attr := func(tag, name string) float64 {
		m := regexp.MustCompile(name + `="([^"]+)"`).FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("%s has no %s", tag, name)
		}
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var scale float64
	for _, tag := range barRE.FindAllString(b.String(), -1) {
		ms := attr(tag, "data-duration-ms")
		if ms < 500 { // small bars are widened to stay visible
			continue
		}
		pxPerMs := attr(tag, "width") / ms
		if scale == 0 {
			scale = pxPerMs
		}
		if d := pxPerMs/scale - 1; d > 0.01 || d < -0.01 {
			t.Errorf("bar %s: %.5f px/ms, want %.5f as in the first chart", tag, pxPerMs, scale)
		}
	}
}

func TestWriteNoRuns(t *testing.T) {
	if err := report.Write(&bytes.Buffer{}, nil, report.Options{}); err == nil {
		t.Error("Write of no runs succeeded")
	}
}
