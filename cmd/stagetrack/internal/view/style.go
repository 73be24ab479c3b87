package view

import (
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

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
	case jsonrun.StageOK:
		return sgrGreen
	case jsonrun.StageError, jsonrun.StatusFailed, jsonrun.StatusCrashed:
		return sgrRed
	case jsonrun.StageUnfinished, jsonrun.StageRunning, jsonrun.StatusIncomplete, jsonrun.StatusInterrupted:
		return sgrYellow
	}
	return sgrBlue
}

func (s style) status(status string) string { return s.paint(statusCode(status), status) }

// barCode is the colour of a stage's bar.
func barCode(status string) string {
	if status == jsonrun.StageOK {
		return sgrCyan
	}
	return statusCode(status)
}
