package provenance

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
)

// ToolVersion runs "command --version" ("go version" for go) and returns
// the command's base name and the first line of what it printed ("" when
// it is not found, fails, or prints nothing within 5 seconds). command is
// a program name or path; it is not run through a shell.
func ToolVersion(ctx context.Context, command string) (name, version string) {
	name = toolName(command)
	path, err := exec.LookPath(command)
	if err != nil {
		return name, ""
	}
	arg := "--version"
	if name == "go" {
		arg = "version"
	}
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, arg).CombinedOutput() // python 2 printed it on stderr
	if err != nil {
		return name, ""
	}
	line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
	return name, strings.TrimSpace(string(line))
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
