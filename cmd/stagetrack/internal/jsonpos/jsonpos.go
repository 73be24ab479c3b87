// Package jsonpos finds where the values of a JSON document are, so that a
// problem reported at a JSON pointer ("/stages/train/duration_sec") can be
// shown at its line.
//
// Its functions are pure and safe for concurrent use; an *Index is
// read-only once built.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Index maps the JSON pointers of a document's values to where they start.
type Index struct {
	data    []byte
	offsets map[string]int // pointer -> byte offset
}

// New indexes data, which must hold exactly one JSON value. For a value
// inside an object the offset is that of its key, where a reader looks for
// it; for the root and array elements, that of the value itself. On a
// syntax error New returns an *Error carrying the line, and the index of
// what came before.
func New(data []byte) (*Index, error) {
	ix := &Index{data: data, offsets: make(map[string]int)}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		ptr     string
		obj     bool
		n       int    // next array index
		key     string // current object key
		wantKey bool
	}
	var stack []frame
	done := false // the root value is complete
	valueDone := func() {
		if len(stack) == 0 {
			done = true
		} else if f := &stack[len(stack)-1]; f.obj {
			f.wantKey = true
		}
	}
	for {
		start := skip(data, int(dec.InputOffset()))
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return ix, ix.errorAt(len(data), "unexpected end of JSON input")
			}
			return ix, nil
		}
		if err != nil {
			return ix, ix.syntaxError(err, start)
		}
		if done {
			return ix, ix.errorAt(start, "unexpected data after the top-level value")
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		ptr := ""
		if len(stack) == 0 {
			ix.offsets[""] = start
		} else {
			f := &stack[len(stack)-1]
			switch {
			case f.obj && f.wantKey:
				f.key, f.wantKey = tok.(string), false
				ix.offsets[f.ptr+"/"+Escape(f.key)] = start
				continue
			case f.obj:
				ptr = f.ptr + "/" + Escape(f.key)
			default:
				ptr = f.ptr + "/" + strconv.Itoa(f.n)
				ix.offsets[ptr] = start
				f.n++
			}
		}
		if d, ok := tok.(json.Delim); ok { // '{' or '['
			stack = append(stack, frame{ptr: ptr, obj: d == '{', wantKey: d == '{'})
			continue
		}
		valueDone()
	}
}

// skip returns the offset of the first byte at or after i that is not
// white space or a separator.
func skip(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}

// Error is a syntax error at a line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (ix *Index) errorAt(off int, msg string) error {
	return &Error{Line: ix.LineAt(off), Msg: msg}
}

func (ix *Index) syntaxError(err error, start int) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return ix.errorAt(int(se.Offset), se.Error())
	}
	return ix.errorAt(start, err.Error())
}

// LineAt returns the 1-based line of byte offset off.
func (ix *Index) LineAt(off int) int {
	off = max(0, min(off, len(ix.data)))
	return 1 + bytes.Count(ix.data[:off], []byte{'\n'})
}

// Line returns the line of the value at pointer (a JSON pointer such as
// "/stages/train", "" for the root). For a pointer the index does not hold
// it returns the line of its nearest ancestor that it does.
func (ix *Index) Line(pointer string) int {
	for {
		if off, ok := ix.offsets[pointer]; ok {
			return ix.LineAt(off)
		}
		i := strings.LastIndexByte(pointer, '/')
		if i < 0 {
			return 1
		}
		pointer = pointer[:i]
	}
}

// Pointer joins reference tokens into a JSON pointer, escaping each.
func Pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(Escape(t))
	}
	return b.String()
}

// Escape escapes a reference token for a JSON pointer: "~" as "~0", "/"
// as "~1" (RFC 6901).
func Escape(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}
