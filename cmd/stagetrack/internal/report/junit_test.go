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
