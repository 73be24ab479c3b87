package view

import "github.com/stage-tracker/stage-tracker/runfile"

// style wraps text in ANSI SGR sequences when colour is on.
type style bool

const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrBlue   = "34"
	sgrCyan   = "36"
)

func (s style) paint(code, text string) string {
	if !s || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.paint(sgrBold, t) }
func (s style) dim(t string) string    { return s.paint(sgrDim, t) }
func (s style) red(t string) string    { return s.paint(sgrRed, t) }
func (s style) yellow(t string) string { return s.paint(sgrYellow, t) }

// statusCode is the colour of a stage or run status.
func statusCode(status string) string {
	switch status {
	case runfile.StageOK:
		return sgrGreen
	case runfile.StageError, runfile.StatusFailed, runfile.StatusCrashed:
		return sgrRed
	case runfile.StageUnfinished, runfile.StageRunning, runfile.StatusIncomplete, runfile.StatusInterrupted:
		return sgrYellow
	}
	return sgrBlue
}

func (s style) status(status string) string { return s.paint(statusCode(status), status) }

// barCode is the colour of a stage's bar.
func barCode(status string) string {
	if status == runfile.StageOK {
		return sgrCyan
	}
	return statusCode(status)
}
