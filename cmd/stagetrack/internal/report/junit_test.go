package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// JUnit's structure as CI systems read it, decoded independently of the
// writer's own types.
type testsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	stage := func(name, status string, errMsg *string, data string, d time.Duration) runfile.Stage {
		return runfile.Stage{Key: name, Name: name, Status: status, Error: derefOr(errMsg), StartTime: t0, EndTime: t0.Add(d),
			DurationSec: d.Seconds(), Data: json.RawMessage(data)}
	}
	run := &runfile.Run{
		RunID: "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f", Name: "ci <&>", Status: runfile.StatusFailed, Error: "stage test failed",
		StartTime: t0, CompletedAt: t0.Add(3 * time.Second),
		Stages: runfile.Stages{
			stage("build", runfile.StageOK, nil, `{"n":3}`, time.Second),
			stage("test", runfile.StageError, str("exit status 1"), `{"stderr_tail":"--- FAIL: TestX\n\tx_test.go:3: <bad> & worse"}`, 2*time.Second),
			stage("deploy", runfile.StageUnfinished, nil, `null`, 0),
		},
	}
	var b bytes.Buffer
	if err := report.WriteJUnit(&b, []report.Input{{File: "r.json", Run: run}}, ""); err != nil {
		t.Fatal(err)
	}
	var doc testsuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || len(doc.Suites) != 1 {
		t.Fatalf("tests %d failures %d suites %d\n%s", doc.Tests, doc.Failures, len(doc.Suites), b.String())
	}
	s := doc.Suites[0]
	if s.Name != "ci <&>" || s.Tests != 3 || s.Failures != 1 || s.Errors != 1 || len(s.Cases) != 3 {
		t.Fatalf("suite %+v", s)
	}
	cases := []struct {
		name, time, failure, text, errMsg string
	}{
		{name: "build", time: "1.000"},
		{name: "test", time: "2.000", failure: "exit status 1", text: "exit status 1\n\nstderr (last lines):\n--- FAIL: TestX\n\tx_test.go:3: <bad> & worse"},
		{name: "deploy", time: "0.000", errMsg: "stage unfinished"},
	}
	for i, want := range cases {
		t.Run(want.name, func(t *testing.T) {
			c := s.Cases[i]
			if c.Name != want.name || c.Time != want.time {
				t.Errorf("case %q time %s, want %q %s", c.Name, c.Time, want.name, want.time)
			}
			switch {
			case want.failure == "" && c.Failure != nil:
				t.Errorf("unexpected failure %+v", c.Failure)
			case want.failure != "" && (c.Failure == nil || c.Failure.Message != want.failure || c.Failure.Text != want.text):
				t.Errorf("failure %+v, want %q with %q", c.Failure, want.failure, want.text)
			}
			if (want.errMsg == "") != (c.Error == nil) || c.Error != nil && c.Error.Message != want.errMsg {
				t.Errorf("error %+v, want %q", c.Error, want.errMsg)
			}
		})
	}
	if !strings.HasPrefix(b.String(), xml.Header) {
		t.Errorf("no XML header")
	}
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestWriteJUnitRetries: a repeated stage is one test case, its deciding
// attempt, with its earlier failed attempts marked as Surefire marks
// reruns; failures count deciding attempts only.
func TestWriteJUnitRetries(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(key, name string, attempt int, status, errMsg string) runfile.Stage {
		return runfile.Stage{Key: key, Name: name, Attempt: attempt, Status: status, Error: errMsg, StartTime: t0, EndTime: t0.Add(time.Second)}
	}
	run := &runfile.Run{
		RunID: "r1", Name: "ci", Status: runfile.StatusFailed, StartTime: t0, CompletedAt: t0.Add(5 * time.Second),
		Stages: runfile.Stages{
			at("fetch#1", "fetch", 1, runfile.StageError, "timeout"),
			at("fetch", "fetch", 2, runfile.StageOK, ""),
			at("deploy#1", "deploy", 1, runfile.StageUnfinished, ""),
			at("deploy", "deploy", 2, runfile.StageOK, ""),
			at("test#1", "test", 1, runfile.StageError, "exit status 1"),
			at("test", "test", 2, runfile.StageError, "exit status 2"),
			at("lint", "lint", 1, runfile.StageError, "exit status 3"),
		},
	}
	var b bytes.Buffer
	if err := report.WriteJUnit(&b, []report.Input{{File: "r.json", Run: run}}, ""); err != nil {
		t.Fatal(err)
	}
	type rerun struct {
		Message    string `xml:"message,attr"`
		StackTrace string `xml:"stackTrace"`
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suite    struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name          string   `xml:"name,attr"`
				Failure       *rerun   `xml:"failure"`
				FlakyFailures []rerun  `xml:"flakyFailure"`
				FlakyErrors   []rerun  `xml:"flakyError"`
				RerunFailures []rerun  `xml:"rerunFailure"`
				Other         []string `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 4 || doc.Failures != 2 || doc.Errors != 0 || doc.Suite.Failures != 2 {
		t.Errorf("tests %d failures %d (suite %d) errors %d, want 4 tests, 2 failures, 0 errors\n%s",
			doc.Tests, doc.Failures, doc.Suite.Failures, doc.Errors, b.String())
	}
	got := map[string]string{}
	for _, c := range doc.Suite.Cases {
		var parts []string
		if c.Failure != nil {
			parts = append(parts, "failure "+c.Failure.Message)
		}
		for _, r := range c.RerunFailures {
			parts = append(parts, "rerunFailure "+r.Message)
		}
		for _, r := range c.FlakyFailures {
			parts = append(parts, "flakyFailure "+r.Message+" / "+r.StackTrace)
		}
		for _, r := range c.FlakyErrors {
			parts = append(parts, "flakyError "+r.Message)
		}
		got[c.Name] = strings.Join(parts, "; ")
	}
	want := map[string]string{
		"fetch":  "flakyFailure attempt 1: timeout / timeout",
		"deploy": "flakyError attempt 1: stage unfinished",
		"test":   "failure exit status 2; rerunFailure attempt 1: exit status 1",
		"lint":   "failure exit status 3",
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			if g, ok := got[name]; !ok || g != w {
				t.Errorf("case %s: %q, want %q\n%s", name, g, w, b.String())
			}
		})
	}
	if len(got) != len(want) {
		t.Errorf("cases %v, want %d", got, len(want))
	}
}
