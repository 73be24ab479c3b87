package cli

import (
	"errors"
	"fmt"
)

// Exit codes of every command; docs/cli.md lists them.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailure: the command ran and found a failure: a file that cannot
	// be read or is not a valid run file, runs that could not be sent.
	ExitFailure = 1
	// ExitUsage: the command line was wrong (unknown command or flag, wrong
	// number of arguments, a bad flag value) or the environment configures
	// something unsupported; nothing was done.
	ExitUsage = 2
)

// exitError carries the exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// exitCode is the exit code for err: the code it carries, else ExitUsage,
// because every error a command's RunE returns carries one (see runE), so
// an error without one comes from cobra's parsing of the command line.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitUsage
}
