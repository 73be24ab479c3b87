package view

import "testing"

// drawBar is the pure converter from a stage's place on the time axis to
// cells; tested white-box.
func TestDrawBar(t *testing.T) {
	cases := []struct {
		name     string
		from, to float64
		w        int
		closed   bool
		want     string
	}{
		{"whole axis", 0, 1, 10, true, "██████████"},
		{"first half", 0, 0.5, 10, true, "█████     "},
		{"ends inside a cell", 0, 0.33, 10, true, "███▎      "},
		{"starts inside a cell", 0.55, 1, 10, true, "     ▐████"},
		{"tiny stage stays visible", 0.5, 0.5001, 10, true, "     ▏    "},
		{"tiny stage at the end", 1, 1, 10, true, "         ▏"},
		{"within one cell, mostly its right half", 0.12, 0.18, 10, true, " ▐        "},
		{"unfinished is shaded in whole cells", 0.2, 0.53, 10, false, "  ▒▒▒▒    "},
		{"clamped", -0.5, 1.5, 4, true, "████"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := drawBar(c.from, c.to, c.w, c.closed); got != c.want {
				t.Errorf("drawBar(%v, %v, %d) = %q, want %q", c.from, c.to, c.w, got, c.want)
			}
		})
	}
}
