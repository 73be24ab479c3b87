package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// CI providers whose documented environment variables stagetrack reads.
//
// GitHub Actions: https://docs.github.com/en/actions/reference/variables-reference
// GitLab CI: https://docs.gitlab.com/ci/variables/predefined_variables/
const (
	providerGitHub = "github_actions"
	providerGitLab = "gitlab_ci"
)

// detectCI returns the attributes of the CI job stagetrack runs in, keyed
// by OpenTelemetry attribute name (cicd.*, vcs.* and the provider's own),
// or nil outside a CI system it knows.
func detectCI(getenv func(string) string) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		server, repo, runID, attempt := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT")
		if server == "" {
			server = "https://github.com"
		}
		set("ci.provider", providerGitHub)
		set("cicd.pipeline.name", getenv("GITHUB_WORKFLOW"))
		set("cicd.pipeline.run.id", runID)
		set("cicd.pipeline.task.name", getenv("GITHUB_JOB"))
		set("vcs.ref.head.revision", getenv("GITHUB_SHA"))
		set("vcs.ref.head.name", getenv("GITHUB_REF_NAME"))
		set("github.repository", repo)
		set("github.run_attempt", attempt)
		set("github.run_number", getenv("GITHUB_RUN_NUMBER"))
		set("github.actor", getenv("GITHUB_ACTOR"))
		if repo != "" {
			set("vcs.repository.url.full", server+"/"+repo)
			if runID != "" {
				url := server + "/" + repo + "/actions/runs/" + runID
				if attempt != "" {
					url += "/attempts/" + attempt
				}
				set("cicd.pipeline.run.url.full", url)
			}
		}
	case getenv("GITLAB_CI") == "true":
		set("ci.provider", providerGitLab)
		name := getenv("CI_PIPELINE_NAME")
		if name == "" {
			name = getenv("CI_PROJECT_PATH")
		}
		set("cicd.pipeline.name", name)
		set("cicd.pipeline.run.id", getenv("CI_PIPELINE_ID"))
		set("cicd.pipeline.run.url.full", getenv("CI_PIPELINE_URL"))
		set("cicd.pipeline.task.name", getenv("CI_JOB_NAME"))
		set("cicd.pipeline.task.run.id", getenv("CI_JOB_ID"))
		set("cicd.pipeline.task.run.url.full", getenv("CI_JOB_URL"))
		set("vcs.ref.head.revision", getenv("CI_COMMIT_SHA"))
		set("vcs.ref.head.name", getenv("CI_COMMIT_REF_NAME"))
		set("vcs.repository.url.full", getenv("CI_PROJECT_URL"))
		set("gitlab.project.path", getenv("CI_PROJECT_PATH"))
	default:
		return nil
	}
	return m
}

// ciResource is the setup option that puts the CI attributes on the
// resource of every span this process exports (the run span among them);
// nil when there are none.
func ciResource(ci map[string]string) []setup.Option {
	if len(ci) == 0 {
		return nil
	}
	keys := sortedKeys(ci)
	attrs := make([]attribute.KeyValue, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, attribute.String(k, ci[k]))
	}
	return []setup.Option{setup.WithResourceAttributes(attrs...)}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// withCIArgs returns the run's args with the CI attributes under "ci", when
// args is a JSON object or absent; other args are left as they are.
func withCIArgs(args json.RawMessage, ci map[string]string) json.RawMessage {
	if len(ci) == 0 {
		return args
	}
	obj := map[string]json.RawMessage{}
	if len(args) > 0 && string(args) != "null" {
		if json.Unmarshal(args, &obj) != nil || obj == nil {
			return args
		}
	}
	b, _ := json.Marshal(ci)
	obj["ci"] = b
	out, err := json.Marshal(obj)
	if err != nil {
		return args
	}
	return out
}

// ciFinish tells the CI system about a finished run: on GitHub Actions, a
// Markdown summary appended to $GITHUB_STEP_SUMMARY and an annotation per
// failed (::error) or flaky (::warning) stage on stdout (where the runner reads workflow
// commands). Elsewhere it does nothing. Failures to write are one line on
// stderr: the run file is written already.
func ciFinish(env *Env, path string, rf *runfile.Run) {
	if env.getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	var errs []error
	if p := env.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		errs = append(errs, appendFile(p, stepSummary(path, rf)))
	}
	_, err := io.WriteString(env.Stdout, annotations(rf))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: GitHub Actions summary: %s\n", oneLine(err))
	}
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, werr := io.WriteString(f, s)
	return errors.Join(werr, f.Close())
}

// stepSummary is the Markdown summary of a run for $GITHUB_STEP_SUMMARY.
func stepSummary(path string, rf *runfile.Run) string {
	var b strings.Builder
	mark := map[string]string{runfile.StageOK: "✅", runfile.StageError: "❌"}
	status := runtree.RunStatus(rf)
	runMark := "❌"
	if status == runfile.StatusOK {
		runMark = "✅"
	}
	fmt.Fprintf(&b, "### %s stagetrack run `%s`: %s in %s\n\n", runMark, mdCell(rf.Name), status, view.Duration(rf.CompletedAt.Sub(rf.StartTime)))
	if rf.Error != "" {
		fmt.Fprintf(&b, "**Error:** %s\n\n", mdCell(rf.Error))
	}
	b.WriteString("| Stage | Status | Duration | Error |\n|---|---|---|---|\n")
	rows := runtree.Flatten(rf)
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s%s | %s %s | %s | %s |\n", strings.Repeat("&nbsp;&nbsp;", row.Depth), mdCell(row.KeyPath),
			orDefault(mark[row.Status], "⚠️"), row.Status, view.Duration(row.End.Sub(row.Start)), mdCell(row.Stage.Error))
	}
	for _, row := range rows {
		if tail := report.StderrTail(row.Stage.Data); tail != "" {
			fmt.Fprintf(&b, "\n<details><summary>stderr of %s</summary>\n\n```text\n%s\n```\n\n</details>\n", mdCell(row.KeyPath), strings.ReplaceAll(tail, "```", "'''"))
		}
	}
	fmt.Fprintf(&b, "\nRun file `%s`, trace `%s`.\n\n", path, rf.TraceID)
	return b.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// mdCell makes s safe in a Markdown table cell: one line, pipes escaped.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(view.Clean(s)), " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// annotations are the workflow commands that tell a person watching the
// job how each stage ended, by the attempt that decides it: ::error for a
// stage that failed (or never ended), ::warning for a flaky one (it passed
// after a failed attempt). Earlier attempts say nothing of their own, so a
// green job shows no error.
func annotations(rf *runfile.Run) string {
	var b strings.Builder
	for _, row := range runtree.Flatten(rf) {
		switch {
		case !row.Decides:
		case runtree.Failed(row.Status):
			title := "stage " + row.KeyPath + " failed"
			if row.Status != runfile.StageError {
				title = "stage " + row.KeyPath + " " + row.Status
			}
			fmt.Fprintf(&b, "::error title=%s::%s\n", escapeProperty(title), escapeData(stageProblem(row.Stage)))
		case row.Flaky():
			var msgs []string
			failed := 0
			for _, e := range row.Earlier {
				if runtree.Failed(runtree.Status(e)) {
					failed++
					msgs = append(msgs, fmt.Sprintf("attempt %d: %s", e.Attempt, orDefault(stageProblem(e), runtree.Status(e))))
				}
			}
			title := fmt.Sprintf("stage %s is flaky (passed on attempt %d after %d failed)", row.KeyPath, len(row.Earlier)+1, failed)
			fmt.Fprintf(&b, "::warning title=%s::%s\n", escapeProperty(title), escapeData(strings.Join(msgs, "\n")))
		}
	}
	return b.String()
}

// stageProblem is a stage's error with its stderr tail.
func stageProblem(st *runfile.Stage) string {
	msg := st.Error
	if tail := report.StderrTail(st.Data); tail != "" {
		msg += "\n" + tail
	}
	return msg
}

// escapeData and escapeProperty escape a workflow command's message and
// property values as the runner unescapes them.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// ciFinishRun is ciFinish for a run this process finalised.
func ciFinishRun(env *Env, run *tracker.Run) {
	if path := run.File(); path != "" {
		if rf, err := runfile.ReadFile(path); err == nil {
			ciFinish(env, path, rf)
		}
	}
}
