package cli

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

// Env is what the commands see of the world: where output goes and the
// environment variables. Tests give buffers and a map; OSEnv gives the real
// ones.
//
// The commands only read an Env's fields; one Env may serve several
// executions at once as long as its writers and functions are safe for
// concurrent use.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable. Nil means os.Getenv. Commands
	// that hand work to OpenTelemetry exporters (send) are configured by
	// the process environment whatever Getenv says.
	Getenv func(string) string
	// Terminal reports whether w is a terminal and, if it is, its width in
	// columns (0 when unknown). Nil means: w is an *os.File that x/term
	// says is a terminal.
	Terminal func(w io.Writer) (ok bool, width int)
}

// OSEnv returns the process's Env.
func OSEnv() *Env {
	return &Env{Stdout: os.Stdout, Stderr: os.Stderr}
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

func (e *Env) terminal(w io.Writer) (bool, int) {
	if e.Terminal != nil {
		return e.Terminal(w)
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return true, 0
	}
	return true, width
}

// defaultWidth is the width when stdout is not a terminal and neither
// --width nor COLUMNS says otherwise.
const defaultWidth = 100

// viewOptions decides colour and width for output to w. Colour is on only
// when w is a terminal, NO_COLOR is unset or empty (https://no-color.org)
// and TERM is not "dumb": output to a pipe or a file is never coloured.
// The width is flagWidth when positive, else COLUMNS when it is a positive
// number, else the terminal's width, else defaultWidth.
func (e *Env) viewOptions(w io.Writer, flagWidth int) view.Options {
	isTerm, termWidth := e.terminal(w)
	o := view.Options{
		Color: isTerm && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb",
		Width: defaultWidth,
	}
	switch cols, err := strconv.Atoi(e.getenv("COLUMNS")); {
	case flagWidth > 0:
		o.Width = flagWidth
	case err == nil && cols > 0:
		o.Width = cols
	case isTerm && termWidth > 0:
		o.Width = termWidth
	}
	return o
}
