//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The examples in docs/cli.md and the README run as they are shown, so
// they cannot drift from the code. A fenced block opts in by its info
// string, console:
//
//	```console
//	$ stagetrack exec --stage fetch --retry 2 -- sh -c '...'
//	connection reset
//	$ echo $?
//	0
//	```
//
// A line starting "$ " is a command, continued over the lines that close
// its quotes, a trailing backslash or a here-document; the lines up to the
// next command are its output, stdout and stderr together. The commands of
// a block run one after another in one shell, in a fresh directory, with
// the stagetrack just built first on PATH, nothing from the test's own run
// or OTel settings, NO_COLOR=1 and no terminal. Before comparing, both
// sides have ids, times, durations and chart bars replaced by
// placeholders (normalizeExample) and runs of spaces made one; the
// directory is /tmp/doc. Blocks that cannot run here (go test, a network
// service, files of the reader's) stay ``` or ```sh.
func TestDocExamples(t *testing.T) {
	bin := buildBinaries(t)
	for _, doc := range []string{"../../../../docs/cli.md", "../../../../README.md"} {
		blocks, err := consoleBlocks(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(blocks) == 0 {
			t.Errorf("%s has no console block: nothing of it is checked", doc)
		}
		for _, b := range blocks {
			t.Run(fmt.Sprintf("%s:%d", filepath.Base(doc), b.line), func(t *testing.T) {
				t.Parallel()
				got := runExample(t, bin, b)
				for i, c := range b.cmds {
					want, have := normalizeExample(c.output), normalizeExample(got[i])
					if want != have {
						t.Errorf("%s:%d: $ %s\nthe docs show:\n%s\nit prints:\n%s", doc, c.line, c.text, want, have)
					}
				}
			})
		}
	}
}

// TestDocExamplesFound: the parser finds commands, their continuation
// lines and their output, in indented blocks too, and skips other blocks.
func TestDocExamplesFound(t *testing.T) {
	md := "intro\n```console\n$ echo a \\\n  b\na b\n$ cat <<'X'\nx\nX\nx\n```\n```sh\n$ not run\n```\n" +
		"- item\n\n  ```console\n  $ sh -c '\n  echo two\n  '\n  two\n  ```\n"
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks, err := consoleBlocks(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range blocks {
		for _, c := range b.cmds {
			got = append(got, strconv.Quote(c.text)+"→"+strconv.Quote(c.output))
		}
	}
	want := []string{`"echo a \\\n  b"→"a b"`, `"cat <<'X'\nx\nX"→"x"`, `"sh -c '\necho two\n'"→"two"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type exampleCmd struct {
	line   int      // of its "$ " line in the file
	text   string   // the command, continuation lines included
	out    []string // the lines shown after it
	output string   // out, joined by newlines
}

type exampleBlock struct {
	line int // of the opening fence
	cmds []exampleCmd
}

var fenceRE = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*console\\b")

// consoleBlocks returns the console blocks of the Markdown file at path.
func consoleBlocks(path string) ([]exampleBlock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var blocks []exampleBlock
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, fence := m[1], m[2]
		b := exampleBlock{line: i + 1}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != fence; i++ {
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		for j := 0; j < len(body); j++ {
			if !strings.HasPrefix(body[j], "$ ") {
				if len(b.cmds) == 0 {
					return nil, fmt.Errorf("%s:%d: a console block starts with a \"$ \" line", path, b.line+1+j)
				}
				c := &b.cmds[len(b.cmds)-1]
				c.out = append(c.out, body[j])
				continue
			}
			c := exampleCmd{line: b.line + 1 + j, text: strings.TrimPrefix(body[j], "$ ")}
			for !complete(c.text) && j+1 < len(body) {
				j++
				c.text += "\n" + body[j]
			}
			b.cmds = append(b.cmds, c)
		}
		for k := range b.cmds {
			b.cmds[k].output = strings.TrimRight(strings.Join(b.cmds[k].out, "\n"), "\n")
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

var heredocRE = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_]+)['"]?`)

// complete reports whether the shell command s is whole: its quotes
// closed, no backslash at its end, its here-document ended.
func complete(s string) bool {
	if m := heredocRE.FindStringSubmatch(s); m != nil {
		lines := strings.Split(s, "\n")
		return len(lines) > 1 && strings.TrimSpace(lines[len(lines)-1]) == m[1]
	}
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			if i == len(s)-1 {
				return false
			}
			i++
		case quote == '"':
			if c == '"' {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		}
	}
	return quote == 0
}

// runExample runs the commands of b in one shell in a fresh directory and
// returns what each printed.
func runExample(t *testing.T, bin binaries, b exampleBlock) []string {
	work := t.TempDir()
	var script strings.Builder
	for i, c := range b.cmds {
		// The marker keeps $? for the command after it (echo $?).
		fmt.Fprintf(&script, "__st=$?; printf '\\n@@@%d@@@\\n'; (exit $__st)\n%s\n", i, c.text)
	}
	cmd := exec.CommandContext(t.Context(), "sh", "-c", script.String())
	cmd.Dir = work
	cmd.Env = userEnv("PATH="+filepath.Dir(bin.stagetrack)+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // the exit status is the last command's, which the docs may show with echo $?
	got := make([]string, len(b.cmds))
	parts := regexp.MustCompile(`\n@@@(\d+)@@@\n`).Split("\n"+out.String(), -1)
	if len(parts) != len(b.cmds)+1 {
		t.Fatalf("the block's shell printed %d markers for %d commands:\n%s", len(parts)-1, len(b.cmds), out.String())
	}
	real, err := filepath.EvalSymlinks(work)
	if err != nil {
		real = work
	}
	for i := range got {
		s := strings.ReplaceAll(parts[i+1], real, "/tmp/doc")
		got[i] = strings.TrimRight(strings.ReplaceAll(s, work, "/tmp/doc"), "\n")
	}
	return got
}

var exampleNorms = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "RUNID"},
	{regexp.MustCompile(`\b[0-9a-f]{32}\b`), "TRACEID"},
	{regexp.MustCompile(`\b[0-9a-f]{16}\b`), "SPANID"},
	{regexp.MustCompile(`\b[0-9a-f]{6,}…`), "HEX…"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC|Z|[+-]\d{2}:\d{2})?`), "TIME"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m\d\ds|h\d\dm)\b`), "DUR"},
	{regexp.MustCompile(`[▏▎▍▌▋▊▉█▐▒]+`), "BAR"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

// normalizeExample replaces in s what differs from one run to the next.
func normalizeExample(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		for _, n := range exampleNorms {
			line = n.re.ReplaceAllString(line, n.with)
		}
		b.WriteString(strings.TrimSpace(line))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}
