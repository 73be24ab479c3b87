package provenance

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ToolVersion runs "command --version" ("go version" for go) and returns
// the command's base name and the first line of what it printed ("" when
// it is not found, fails, or prints nothing within 5 seconds). command is
// a program name or path; it is not run through a shell.
func ToolVersion(ctx context.Context, command string) (name, version string) {
	return startToolVersion(ctx, command)()
}

// startToolVersion starts ToolVersion's command and returns the function
// that waits for it and reads the version.
func startToolVersion(ctx context.Context, command string) func() (name, version string) {
	name := toolName(command)
	path, err := exec.LookPath(command)
	if err != nil {
		return func() (string, string) { return name, "" }
	}
	arg := "--version"
	if name == "go" {
		arg = "version"
	}
	out := startCommand(ctx, true, path, arg) // python 2 printed it on stderr
	return func() (string, string) {
		line, _, _ := bytes.Cut(bytes.TrimSpace(out()), []byte("\n"))
		return name, strings.TrimSpace(string(line))
	}
}

// startCommand starts path with args and returns the function that waits
// for it and returns what it printed on stdout (and on stderr too when
// stderr is set), nil when the command failed or did not end within
// toolTimeout. The returned function may be called more than once.
func startCommand(ctx context.Context, stderr bool, path string, args ...string) func() []byte {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout = &out
	if stderr {
		cmd.Stderr = &out
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return func() []byte { return nil }
	}
	wait := sync.OnceValue(func() []byte {
		defer cancel()
		if cmd.Wait() != nil {
			return nil
		}
		return out.Bytes()
	})
	return wait
}

// toolName is the name a tool's version is recorded under: the command's
// base name without an .exe suffix.
func toolName(command string) string {
	return strings.TrimSuffix(filepath.Base(command), ".exe")
}

// Interpreter returns argv0 when it names an interpreter whose version is
// worth recording for the command it runs (python, python3, python3.12,
// node, go), else "".
func Interpreter(argv0 string) string {
	name := toolName(argv0)
	switch {
	case name == "node", name == "go":
		return argv0
	case name == "python" || strings.HasPrefix(name, "python3") || strings.HasPrefix(name, "python2"):
		return argv0
	}
	return ""
}

// InterpreterKey is the name under which an interpreter's version is
// recorded: "python" for every python, else the base name.
func InterpreterKey(argv0 string) string {
	if name := toolName(argv0); strings.HasPrefix(name, "python") {
		return "python"
	} else {
		return name
	}
}
