// Package jsontest holds what tests of the JSON writers (the run file's
// encoder, the journal's) compare values by: written independently of the
// encoders, so that it can check them.
package jsontest

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Compact returns raw compacted, "null" for no value, with invalid UTF-8
// (which can only be inside strings) as a JSON decoder reads it.
func Compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid JSON: " + string(raw)
	}
	return Decoded(b.String())
}

// Decoded returns s as a JSON decoder reads it back after encoding: every
// byte that is not part of valid UTF-8 becomes U+FFFD.
func Decoded(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte, with n == 1
		i += n
	}
	return b.String()
}
