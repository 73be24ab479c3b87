package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestStepSummaryEscapes: no string from the run can leave its code span
// or cell, or add a link, an image or HTML to the step summary.
func TestStepSummaryEscapes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		run      runfile.Run
		wantHead string
	}{
		{name: "backtick in the run name", wantHead: "### ✅ stagetrack run ``x` ![a](https://evil.example/p.png)``: ok in 1.00s\n",
			run: runfile.Run{Name: "x` ![a](https://evil.example/p.png)", Status: runfile.StatusOK}},
		{name: "image and html in a stage name and error", wantHead: "### ❌ stagetrack run `ci`: failed in 1.00s\n",
			run: runfile.Run{Name: "ci", Status: runfile.StatusFailed, Error: `<img src="https://evil.example/e.png"> ![e](https://evil.example/e.png)`,
				Stages: runfile.Stages{{Key: "![s](https://evil.example/s.png)|<b>", Name: "![s](https://evil.example/s.png)|<b>", Status: runfile.StageError,
					Error: "[x](javascript:alert(1)) <script>alert(1)</script> `code` | cell", StartTime: t0, EndTime: t0.Add(time.Second),
					Data: json.RawMessage(`{"stderr_tail":"` + "```" + `\n</details>\n![t](https://evil.example/t.png)"}`)}}}},
		{name: "newlines and control characters", wantHead: "### ✅ stagetrack run `a \uFFFD[31mb …`: ok in 1.00s\n",
			run: runfile.Run{Name: "a \x1b[31mb\n# heading", Status: runfile.StatusOK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run.StartTime, tt.run.CompletedAt, tt.run.TraceID = t0, t0.Add(time.Second), "0af7651916cd43dd8448eb211c80319c"
			md := stepSummary("runs/x.json", &tt.run)
			if !strings.HasPrefix(md, tt.wantHead) {
				t.Errorf("summary starts\n%q\nwant\n%q", firstLine(md), tt.wantHead)
			}
			// Outside code (spans and the fenced stderr), nothing active.
			body := strings.TrimPrefix(md, tt.wantHead)
			for _, bad := range []string{"![", "](", "<img", "<script", "<b>", "`code`"} {
				if outsideCode(body, bad) {
					t.Errorf("summary has %q outside code:\n%s", bad, md)
				}
			}
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "| ") && strings.Count(l, "|")-strings.Count(l, `\|`) != 5 {
					t.Errorf("table row has more than 4 cells: %s", l)
				}
			}
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return s
}

// outsideCode reports whether bad occurs in md outside its fenced blocks.
func outsideCode(md, bad string) bool {
	in := ""
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			f := strings.TrimSuffix(l, "text")
			switch {
			case in == "":
				in = f
				continue
			case l == in:
				in = ""
				continue
			}
		}
		if in == "" && strings.Contains(l, bad) {
			return true
		}
	}
	return false
}

// TestStepSummaryBounded: a run of 50,000 stages gives a summary under
// 1 MiB that keeps the failures and the longest stages and counts the rest.
// That is the STAGE_TRACKER_STRESS=1 size (10 s under -race on a loaded
// machine); by default 5,000 stages under a tenth of the bound, which
// their rows still overflow three times.
func TestStepSummaryBounded(t *testing.T) {
	n, limit := 5_000, summaryLimit/10
	if os.Getenv("STAGE_TRACKER_STRESS") == "1" {
		n, limit = 50_000, summaryLimit
	}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rf := &runfile.Run{Name: "big", Status: runfile.StatusFailed, Error: fmt.Sprintf("stage \"s-%05d\" failed", n/2), StartTime: t0, CompletedAt: t0.Add(time.Hour)}
	for i := range n {
		st := runfile.Stage{Key: fmt.Sprintf("stage-with-a-long-name-%05d", i), Status: runfile.StageOK, StartTime: t0, EndTime: t0.Add(time.Second),
			Error: ""}
		st.Name = st.Key
		switch i {
		case n / 2, n - 1:
			st.Status, st.Error = runfile.StageError, "exit status 1 "+strings.Repeat("x", 200)
			st.Data = json.RawMessage(`{"stderr_tail":"boom"}`)
		case 777:
			st.EndTime = t0.Add(30 * time.Minute)
		}
		rf.Stages = append(rf.Stages, st)
	}
	md := boundedSummary("runs/big.json", rf, limit)
	if len(md) >= limit {
		t.Fatalf("summary is %d bytes, want under %d", len(md), limit)
	}
	for _, want := range []string{fmt.Sprintf("| stage\\-with\\-a\\-long\\-name\\-%05d | ❌ error |", n/2), fmt.Sprintf("| stage\\-with\\-a\\-long\\-name\\-%05d | ❌ error |", n-1),
		"| stage\\-with\\-a\\-long\\-name\\-00777 | ✅ ok | 30m", fmt.Sprintf("stderr of stage\\-with\\-a\\-long\\-name\\-%05d", n-1), "more stages (the run file has them all)",
		"Run file `runs/big.json`"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary (%d bytes) lacks %q", len(md), want)
		}
	}
	kept := strings.Count(md, "| ✅ ok |") + strings.Count(md, "| ❌ error |")
	if !strings.Contains(md, fmt.Sprintf("… and %d more stages", n-kept)) {
		t.Errorf("summary keeps %d rows but does not count the other %d", kept, n-kept)
	}
}
