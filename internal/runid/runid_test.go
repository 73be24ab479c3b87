package runid_test

import (
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/runid"
)

func TestCanonical(t *testing.T) {
	const want = "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f"
	for _, tc := range []struct {
		name, in string
	}{
		{"canonical", want},
		{"upper case", strings.ToUpper(want)},
		{"mixed case", "3F2c8a1e-5B7d-4c10-9e2f-6A1b2c3d4e5F"},
		{"urn", "urn:uuid:" + want},
		{"urn upper case", "URN:UUID:" + strings.ToUpper(want)},
		{"braces", "{" + want + "}"},
		{"no dashes", strings.ReplaceAll(want, "-", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runid.Canonical(tc.in)
			if err != nil || got != want {
				t.Fatalf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, want)
			}
			if !runid.IsCanonical(got) {
				t.Errorf("IsCanonical(%q) = false", got)
			}
		})
	}
}

func TestCanonicalRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"empty", ""},
		{"word", "nightly"},
		{"path", "../../etc/passwd"},
		{"short", "3f2c8a1e-5b7d-4c10-9e2f"},
		{"not hex", "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5g"},
		{"dash misplaced", "3f2c8a1e5-b7d-4c10-9e2f-6a1b2c3d4e5f"},
		{"trailing space", "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f "},
		{"long", strings.Repeat("a", 10000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runid.Canonical(tc.in)
			if err == nil {
				t.Fatalf("Canonical(%q) = %q, nil; want an error", tc.in, got)
			}
			if len(err.Error()) > 120 || strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one short line: %q", err)
			}
			if runid.IsCanonical(tc.in) {
				t.Errorf("IsCanonical(%q) = true", tc.in)
			}
		})
	}
}

func TestCanonicalNoAlloc(t *testing.T) {
	id := "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f"
	if n := testing.AllocsPerRun(100, func() { _, _ = runid.Canonical(id) }); n != 0 {
		t.Errorf("Canonical of a canonical id allocates %v times", n)
	}
}

func BenchmarkCanonical(b *testing.B) {
	for _, tc := range []struct{ name, id string }{
		{"canonical", "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f"},
		{"upper case", "3F2C8A1E-5B7D-4C10-9E2F-6A1B2C3D4E5F"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = runid.Canonical(tc.id)
			}
		})
	}
}
