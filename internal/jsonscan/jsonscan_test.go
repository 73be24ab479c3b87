package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/jsonscan"
)

func TestValueEnd(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		at, want int
	}{
		{"number", `12.5e3,`, 0, 6},
		{"literal", `true}`, 0, 4},
		{"string", `"ab" `, 0, 4},
		{"escaped quote", `"a\"b"`, 0, 6},
		{"escaped backslash", `"a\\"b"`, 0, 5},
		{"three backslashes and a quote", `"\\\"",`, 0, 6},
		{"object with brackets in strings", `{"a":"}]","b":[1,{"c":"\""}]} x`, 0, 29},
		{"array", `[1, [2], "]"]`, 0, 13},
		{"not ended string", `"abc\"`, 0, -1},
		{"not ended object", `{"a":[1}`, 0, -1},
		{"nothing", ``, 0, -1},
		{"a delimiter", `,1`, 0, -1},
		{"inside", `{"k": 33 }`, 6, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsonscan.ValueEnd([]byte(tc.in), tc.at); got != tc.want {
				t.Errorf("ValueEnd(%q, %d) = %d, want %d", tc.in, tc.at, got, tc.want)
			}
		})
	}
}

func TestStringEndAndSpace(t *testing.T) {
	b := []byte(" \t\r\n\"x\"")
	if got := jsonscan.Space(b, 0); got != 4 {
		t.Errorf("Space = %d, want 4", got)
	}
	if got := jsonscan.Space(b, 5); got != 5 {
		t.Errorf("Space at a letter = %d, want 5", got)
	}
	if got := jsonscan.Space([]byte("  "), 0); got != 2 {
		t.Errorf("Space of only space = %d, want 2", got)
	}
	if got := jsonscan.StringEnd(b, 0); got != -1 {
		t.Errorf("StringEnd not at a quote = %d, want -1", got)
	}
	if got := jsonscan.StringEnd(b, 4); got != 7 {
		t.Errorf("StringEnd = %d, want 7", got)
	}
}

// FuzzValueEnd: a valid JSON value, without space around it, ends where
// it ends.
func FuzzValueEnd(f *testing.F) {
	for _, s := range []string{`{"a":"\\"}`, `["\"",{"b":[]}]`, `"\\\\\""`, `-1.5e7`, `null`, `{"a\u0022":"}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimSpace(b)
		if len(b) == 0 || !json.Valid(b) {
			return
		}
		if got := jsonscan.ValueEnd(b, 0); got != len(b) {
			t.Errorf("ValueEnd(%q) = %d, want %d", b, got, len(b))
		}
	})
}
