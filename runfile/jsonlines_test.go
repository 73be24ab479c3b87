package runfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decoderJSONLines is isJSONLines as it was before issue 23: the first
// value decoded in full with a json.Decoder. The bracket scan must answer
// the same for every input.
func decoderJSONLines(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if dec.Decode(&first) != nil {
		return false
	}
	rest := bytes.TrimLeft(b[dec.InputOffset():], " \t\r")
	return len(rest) > 0 && rest[0] == '\n' && len(bytes.TrimSpace(rest)) > 0
}

var jsonLinesCases = []struct{ name, in string }{
	{"empty", ""},
	{"one object", `{"run_id":"a"}`},
	{"one object, newline", "{\"run_id\":\"a\"}\n"},
	{"one indented object", "{\n  \"run_id\": \"a\",\n  \"stages\": {}\n}\n"},
	{"two lines", "{\"a\":1}\n{\"a\":2}\n"},
	{"two lines, CRLF", "{\"a\":1}\r\n{\"a\":2}\r\n"},
	{"two lines, spaces before newline", "{\"a\":1} \t\n{\"a\":2}"},
	{"second value on the same line", `{"a":1} {"a":2}`},
	{"blank lines only after", "{\"a\":1}\n\n  \n"},
	{"brace in a string", "{\"a\":\"}\"}\n{}"},
	{"escaped quote in a string", "{\"a\":\"\\\"}\"}\n{}"},
	{"escaped backslash before the quote", "{\"a\":\"\\\\\"}\n{}"},
	{"unterminated string", "{\"a\":\"\n{}"},
	{"string ends in a backslash", "{\"a\":\"\\"},
	{"unclosed object", "{\"a\":{\n{}"},
	{"mismatched bracket", "{\"a\":1]\n{}"},
	{"invalid first value", "{\"a\":nope}\n{\"a\":2}"},
	{"missing comma", "{\"a\":1 \"b\":2}\n{}"},
	{"extra closing brace", "{\"a\":1}}\n{}"},
	{"nested arrays", "{\"a\":[[1,[2]],{\"b\":[]}]}\n{}"},
	{"array first", "[{\"a\":1}]\n{}"},
	{"garbage after newline", "{}\nxyz"},
	{"invalid UTF-8 in a string", "{\"a\":\"\xff\"}\n{}"},
	{"control character in a string", "{\"a\":\"\x01\"}\n{}"},
	{"deep", strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001) + "\n{}"},
}

func TestIsJSONLinesSameAsDecoder(t *testing.T) {
	for _, c := range jsonLinesCases {
		t.Run(c.name, func(t *testing.T) {
			if got, want := isJSONLines([]byte(c.in)), decoderJSONLines([]byte(c.in)); got != want {
				t.Errorf("isJSONLines = %v, the decoder says %v", got, want)
			}
		})
	}
}

func FuzzIsJSONLines(f *testing.F) {
	for _, c := range jsonLinesCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := isJSONLines(b), decoderJSONLines(b); got != want {
			t.Errorf("isJSONLines(%q) = %v, the decoder says %v", b, got, want)
		}
	})
}
