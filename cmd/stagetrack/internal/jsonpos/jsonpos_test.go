package jsonpos_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/jsonpos"
)

const doc = `{
  "run_id": "x",
  "stages": {
    "a/b": {
      "duration_sec": 1
    },
    "t~1": {"list": [
      1,
      {"k": null}
    ]}
  },
  "": 5
}
`

func TestLine(t *testing.T) {
	ix, err := jsonpos.New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		pointer string
		line    int
	}{
		{"root", "", 1},
		{"top-level key", "/run_id", 2},
		{"object value: its key's line", "/stages", 3},
		{"key with a slash", "/stages/a~1b", 4},
		{"nested", "/stages/a~1b/duration_sec", 5},
		{"key with a tilde", "/stages/t~01", 7},
		{"array element", "/stages/t~01/list/0", 8},
		{"object in array", "/stages/t~01/list/1", 9},
		{"inside object in array", "/stages/t~01/list/1/k", 9},
		{"empty key", "/", 12},
		{"unknown: nearest ancestor", "/stages/a~1b/nope/deeper", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ix.Line(c.pointer); got != c.line {
				t.Errorf("Line(%q) = %d, want %d", c.pointer, got, c.line)
			}
		})
	}
}

func TestNewSyntaxErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		line int
	}{
		{"missing value", "{\n  \"a\": ,\n}", 2},
		{"trailing comma", "{\n  \"a\": 1,\n}\n", 3},
		{"cut short", "{\n  \"a\": [1,\n", 3},
		{"two values", "{}\n\n[]\n", 3},
		{"empty", "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := jsonpos.New([]byte(c.doc))
			var e *jsonpos.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want a *jsonpos.Error", err)
			}
			if e.Line != c.line {
				t.Errorf("line %d, want %d (%v)", e.Line, c.line, err)
			}
		})
	}
}

func TestPointer(t *testing.T) {
	if got, want := jsonpos.Pointer([]string{"stages", "a/b", "t~1"}), "/stages/a~1b/t~01"; got != want {
		t.Errorf("Pointer = %q, want %q", got, want)
	}
	if got := jsonpos.Pointer(nil); got != "" {
		t.Errorf("Pointer(nil) = %q, want the root, \"\"", got)
	}
}

// FuzzValidIsIndexed checks what validate relies on to build the index
// only for a file with problems: New accepts every document json.Valid
// accepts.
func FuzzValidIsIndexed(f *testing.F) {
	for _, s := range []string{doc, `{}`, `[1,{"a":[]}]`, `"x"`, `1e5`, " null ", `{"a":"\u00e9\"}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		if _, err := jsonpos.New(b); err != nil {
			t.Errorf("json.Valid accepts %q, New says %v", b, err)
		}
	})
}
