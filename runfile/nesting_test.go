package runfile

import "testing"

// nestingByBytes is Nesting as it was, a byte at a time: the reference
// for the version that skips strings with bytes.IndexByte.
func nestingByBytes(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

var nestingSeeds = []string{
	``, `{}`, `[[[]]]`, `{"a":{"b":[1,{"c":"}}}"}]}}`, `"\"{{{"`, `{"a":"\\"}`, `{"a":"\\\"[["}`,
	`{"unterminated": "{{{`, `"ends in a backslash\`, `{"x":"\u005c"}[`, `]]]{{`, `{"a":"é{"}`,
}

// TestNestingSameAsByteLoop: Nesting skips strings by searching for
// quotes (issue 23: a pass of every file it reads); it gives what the
// byte-at-a-time loop gave, on valid and broken input alike.
func TestNestingSameAsByteLoop(t *testing.T) {
	for _, s := range nestingSeeds {
		t.Run(s, func(t *testing.T) {
			if got, want := Nesting([]byte(s)), nestingByBytes([]byte(s)); got != want {
				t.Errorf("Nesting(%q) = %d; the byte loop says %d", s, got, want)
			}
		})
	}
}

func FuzzNestingSameAsByteLoop(f *testing.F) {
	for _, s := range nestingSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Nesting(b), nestingByBytes(b); got != want {
			t.Errorf("Nesting(%q) = %d; the byte loop says %d", b, got, want)
		}
	})
}
