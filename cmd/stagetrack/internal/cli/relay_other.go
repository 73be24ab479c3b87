//go:build !unix

package cli

import "os"

// ttyRelay: without unix pseudo-terminals, CMD gets the terminal itself and
// run prints plain progress lines.
type ttyRelay struct {
	tty    *os.File
	status *statusLine
}

func openRelay(*Env) (*ttyRelay, bool) { return nil, false }

func (*ttyRelay) wait() {}
