package cli

import (
	"strings"
	"testing"
)

// TestRedactTextRunToken: the bearer token that stagetrack run gives its
// children (in OTEL_EXPORTER_OTLP_*HEADERS) is redacted from a stderr tail
// as the exact string, whatever surrounds it; the pattern alone kept it
// after "Authorization: [REDACTED]" and after "token".
func TestRedactTextRunToken(t *testing.T) {
	const tok = "5d41402abc4b2a76b9719d911017c592aa5a4b1c3e2f1d0e9f8a7b6c5d4e3f2a"
	environ := []string{
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=authorization=Bearer%20" + tok,
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20" + tok + ",x-tenant=acme",
		"HOME=/home/u",
	}
	for _, tc := range []struct{ name, text string }{
		{"authorization header", "Authorization: Bearer " + tok},
		{"word before", "token " + tok},
		{"alone", tok},
		{"percent-encoded env", "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20" + tok},
		{"inside a word", "x" + tok + "y"},
		{"curl", "curl -H 'Authorization: Bearer " + tok + "' http://127.0.0.1:4318/v1/traces: 401"},
		{"several lines", "line 1\nbearer " + tok + "\n" + tok + " again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redactText(tc.text, environ)
			if strings.Contains(got, tok) || strings.Contains(got, tok[:16]) {
				t.Errorf("redactText(%q) = %q: the token is still there", tc.text, got)
			}
			if !strings.Contains(got, "[REDACTED]") {
				t.Errorf("redactText(%q) = %q: want [REDACTED]", tc.text, got)
			}
		})
	}
	// Short header values are not secrets to hunt for: "acme" stays.
	if got := redactText("tenant acme", environ); got != "tenant acme" {
		t.Errorf("redactText of a short header value: %q", got)
	}
}
