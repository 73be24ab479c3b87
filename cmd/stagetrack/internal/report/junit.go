package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// StderrTailKey is the data key under which stagetrack exec records the
// last lines of a failed command's stderr.
const StderrTailKey = "stderr_tail"

// StderrTail returns the stderr tail recorded in a stage's data, or "".
func StderrTail(data json.RawMessage) string {
	if len(data) == 0 || data[0] != '{' {
		return ""
	}
	var d struct {
		Tail string `json:"stderr_tail"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.Tail
}

// JUnit XML, the dialect that CI systems read (GitHub test reporters,
// GitLab's artifacts:reports:junit, Jenkins): one <testsuite> per run, one
// <testcase> per stage, named by its key path; a failed stage has a
// <failure> with its error and stderr tail, a stage that never ended an
// <error>.
//
// A repeated stage (a retry) is one <testcase>, the attempt that decides it
// (see docs/run-file.md, "Repeated stage names"), with its earlier failed
// attempts marked as Maven Surefire marks reruns, which GitHub's and
// GitLab's test reports read: <flakyFailure> (or <flakyError>) inside a
// passing case, <rerunFailure> (or <rerunError>) beside the <failure> of a
// case that failed every time. Only deciding attempts count in failures
// and errors; the stages of an earlier attempt of their parent are told by
// that attempt.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		ID         string          `xml:"id,attr"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		ClassName string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		// Surefire's rerun elements, one per earlier failed attempt.
		RerunFailures []junitRerun `xml:"rerunFailure"`
		RerunErrors   []junitRerun `xml:"rerunError"`
		FlakyFailures []junitRerun `xml:"flakyFailure"`
		FlakyErrors   []junitRerun `xml:"flakyError"`
		SystemErr     string       `xml:"system-err,omitempty"`
	}
	junitRerun struct {
		Message    string `xml:"message,attr"`
		Type       string `xml:"type,attr,omitempty"`
		StackTrace string `xml:"stackTrace,omitempty"`
		SystemErr  string `xml:"system-err,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the runs as a JUnit XML document to w.
//
// WriteJUnit is safe for concurrent use.
func WriteJUnit(w io.Writer, runs []Input, title string) error {
	if len(runs) == 0 {
		return fmt.Errorf("report: no runs")
	}
	if title == "" {
		title = "stage-tracker"
	}
	doc := junitSuites{Name: title}
	var total time.Duration
	for _, in := range runs {
		r := in.Run
		d := r.CompletedAt.Sub(r.StartTime)
		total += d
		s := junitSuite{
			Name: orName(r.Name, r.RunID), ID: r.RunID, Time: seconds(d),
			Timestamp: r.StartTime.UTC().Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{
				{Name: "run_id", Value: r.RunID}, {Name: "status", Value: runtree.RunStatus(r)},
				{Name: "trace_id", Value: r.TraceID}, {Name: "file", Value: in.File},
			},
		}
		if r.Error != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "error", Value: r.Error})
		}
		for _, row := range runtree.Flatten(r) {
			if !row.Decides {
				continue
			}
			c := junitCase{Name: row.KeyPath, ClassName: s.Name, Time: seconds(row.End.Sub(row.Start))}
			tail := StderrTail(row.Stage.Data)
			text := problemText(row.Stage)
			if tail != "" {
				c.SystemErr = tail
			}
			switch row.Status {
			case runfile.StageOK:
			case runfile.StageError:
				c.Failure = &junitProblem{Message: orName(row.Stage.Error, "failed"), Type: "error", Text: text}
				s.Failures++
			default:
				c.Error = &junitProblem{Message: "stage " + row.Status, Type: row.Status, Text: text}
				s.Errors++
			}
			passed := row.Status == runfile.StageOK
			for _, e := range row.Earlier {
				st := runtree.Status(e)
				if !runtree.Failed(st) {
					continue
				}
				rr := junitRerun{Type: st, StackTrace: problemText(e), SystemErr: StderrTail(e.Data)}
				isErr := st != runfile.StageError
				if isErr {
					rr.Message = fmt.Sprintf("attempt %d: stage %s", e.Attempt, st)
				} else {
					rr.Message = fmt.Sprintf("attempt %d: %s", e.Attempt, orName(e.Error, "failed"))
				}
				switch {
				case passed && isErr:
					c.FlakyErrors = append(c.FlakyErrors, rr)
				case passed:
					c.FlakyFailures = append(c.FlakyFailures, rr)
				case isErr:
					c.RerunErrors = append(c.RerunErrors, rr)
				default:
					c.RerunFailures = append(c.RerunFailures, rr)
				}
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// problemText is a stage's error followed by its stderr tail.
func problemText(st *runfile.Stage) string {
	text := st.Error
	if tail := StderrTail(st.Data); tail != "" {
		text += "\n\nstderr (last lines):\n" + tail
	}
	return text
}

func orName(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
