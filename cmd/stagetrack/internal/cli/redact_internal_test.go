package cli

import (
	"fmt"
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

// TestRedactHeaderSecretsInData: what CMD writes to its data file (its
// environment, a response quoting its headers) loses the run's token too.
func TestRedactHeaderSecretsInData(t *testing.T) {
	const tok = "5d41402abc4b2a76b9719d911017c592aa5a4b1c3e2f1d0e9f8a7b6c5d4e3f2a"
	environ := []string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS=authorization=Bearer%20" + tok}
	data := map[string]any{
		"env":      "OTEL_EXPORTER_OTLP_TRACES_HEADERS=authorization=Bearer%20" + tok,
		"nested":   map[string]any{"argv": []any{"curl", "-H", "Authorization: Bearer " + tok}, tok: 1.0},
		"accuracy": 0.93,
	}
	got := fmt.Sprint(redactHeaderSecrets(data, environ))
	if strings.Contains(got, tok) || strings.Count(got, "[REDACTED]") != 3 {
		t.Errorf("redacted data %s: want the token replaced in each of 3 places", got)
	}
}
