// Package jsonscalar writes JSON strings and numbers byte for byte as
// encoding/json's Marshal does (HTML-safe escaping, its float format), and
// says how long they are without writing them. The tracker sizes a stage's
// data with it and the jsonrun exporter rebuilds the data from typed span
// attributes with it: one definition of the encoding keeps the two equal.
//
// Everything here is a pure function, safe for concurrent use.
package jsonscalar

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe reports whether encoding/json writes the ASCII byte c as is inside a
// string: printable, not a quote or backslash, not HTML's <, > and &.
func safe(c byte) bool {
	return c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// AppendString appends s as a JSON string, escaped as encoding/json escapes
// it: \" \\ \b \f \n \r \t, other control bytes and <, >, & as \u00XX, each
// byte of invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and \u2029.
func AppendString(b []byte, s string) []byte { return appendString(b, s, true) }

// AppendText appends s as a JSON string escaped as AppendString does, but
// for <, > and &, which it writes as they are: the run file's and the
// journal's strings, which no browser parses as HTML.
func AppendText(b []byte, s string) []byte { return appendString(b, s, false) }

// appendString is AppendString, and with html false AppendText: the one
// JSON string escaper of the library packages.
func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe(c) || !html && (c == '<' || c == '>' || c == '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// StringLen is len(AppendString(nil, s)), without writing it.
func StringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case safe(c):
				n++
			case c == '"', c == '\\', c == '\b', c == '\f', c == '\n', c == '\r', c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// AppendFloat appends f as encoding/json writes a float64: the shortest
// form, an exponent only below 1e-6 or from 1e21 on, "e-7" not "e-07". f
// must be finite (encoding/json refuses NaN and infinities).
func AppendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// FloatLen is len(AppendFloat(nil, f)), without allocating.
func FloatLen(f float64) int {
	var buf [32]byte
	return len(AppendFloat(buf[:0], f))
}

// IntLen is the length of n in decimal.
func IntLen(n int64) int {
	l := 1
	u := uint64(n)
	if n < 0 {
		l++
		u = uint64(-n)
	}
	for u >= 10 {
		u /= 10
		l++
	}
	return l
}

// ValidUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as appendString writes it.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
