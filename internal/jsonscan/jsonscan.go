// Package jsonscan holds the pieces that stagetrack's byte-level JSON
// scanners share: runfile's search for the end of a run, flatjson's
// flattening of a stage's data and runschema's quick check of a run file
// each skip white space, strings and whole values the same way, here.
// They read JSON that has been or will be checked, and say where it does
// not go on; none allocates.
//
// Its functions are pure and safe for concurrent use.
package jsonscan

import "bytes"

// Space returns the offset of the first byte of b at or after i that is
// not JSON white space (len(b) when there is none).
func Space(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// StringEnd returns the offset just past the string whose opening quote
// is b[i]: past the next quote that does not follow an odd run of
// backslashes. It is -1 when b[i] is not a quote or the string does not
// end. Escapes are not checked beyond that.
func StringEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	// IndexByte is many times quicker than looking at each byte for a
	// quote or a backslash.
	for i++; ; i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		i += j
		k := i
		for b[k-1] == '\\' { // stops at the opening quote at the latest
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
	}
}

// ValueEnd returns the offset just past the value that starts at b[i]
// (white space before it already skipped): a string, an object or array
// by its brackets outside strings, or a number or literal up to the next
// white space or delimiter. It is -1 when the value does not end, or when
// nothing is there. Only brackets and quotes are checked, not the syntax
// between them.
func ValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = StringEnd(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i // a number or a literal
	for i < len(b) && !Delim(b[i]) {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// Delim reports whether c ends a number or a literal: white space or
// one of , } ] :.
func Delim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', '}', ']', ':':
		return true
	}
	return false
}
