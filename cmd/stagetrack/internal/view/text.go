package view

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	eaw "golang.org/x/text/width"
)

// Clean makes s safe and single-line for a terminal: control characters
// (C0 and C1, so no escape sequence survives), bidirectional overrides,
// line and paragraph separators and invalid UTF-8 become U+FFFD, and only
// the first line is kept (with "…" when there were more). Every text from a
// run file goes through it before it is printed.
func Clean(s string) string {
	more := false
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s, more = s[:i], strings.TrimSpace(s[i:]) != ""
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) ||
			r == '\u2028' || r == '\u2029' {
			return '\uFFFD'
		}
		return r
	}, s)
	if more {
		s += " …"
	}
	return s
}

// width is the number of columns s takes on a terminal: two for wide and
// fullwidth East Asian characters and the emoji Unicode gives that width,
// none for combining marks and zero-width characters, one for the rest.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300: // ASCII and Latin: the common case, no lookup
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || r == '\u200b':
		return 0 // combining marks, ZWJ, variation selectors, zero-width space
	}
	switch eaw.LookupRune(r).Kind() {
	case eaw.EastAsianWide, eaw.EastAsianFullwidth:
		return 2
	}
	return 1
}

// truncate shortens s to at most n columns, ending in "…" when cut. A wide
// character that would straddle the limit is left out whole.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if width(s) <= n {
		return s
	}
	w := 0
	for i, r := range s {
		rw := runeWidth(r)
		if w+rw > n-1 {
			return s[:i] + "…"
		}
		w += rw
	}
	return s
}

// padRight pads s (already truncated) with spaces to n columns. visible is
// s's width without colour codes.
func padRight(s string, visible, n int) string {
	if visible >= n {
		return s
	}
	return s + strings.Repeat(" ", n-visible)
}

func padLeft(s string, visible, n int) string {
	if visible >= n {
		return s
	}
	return strings.Repeat(" ", n-visible) + s
}

// Duration formats d the way the views print durations: three significant
// figures below a minute ("850µs", "30.5ms", "1.20s", "12.3s"), then
// minutes and seconds ("2m03s"), then hours and minutes ("1h02m").
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-max(d, -math.MaxInt64)) // -MinInt64 overflows
	}
	switch {
	case d == 0:
		return "0s"
	case d < 999500*time.Nanosecond: // below what rounds to 1000µs
		return sig(float64(d)/float64(time.Microsecond), "µs")
	case d < 999500*time.Microsecond:
		return sig(float64(d)/float64(time.Millisecond), "ms")
	case d < 59950*time.Millisecond:
		return sig(d.Seconds(), "s")
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// sig formats v (in [0, 1000)) with three significant figures.
func sig(v float64, unit string) string {
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f%s", math.Round(v), unit)
	case v >= 9.995:
		return fmt.Sprintf("%.1f%s", v, unit)
	default:
		return fmt.Sprintf("%.2f%s", v, unit)
	}
}

// SignedDuration formats d with an explicit sign: "+1.20s", "-30.5ms", "±0s".
func SignedDuration(d time.Duration) string {
	switch {
	case d > 0:
		return "+" + Duration(d)
	case d < 0:
		return Duration(d)
	}
	return "±0s"
}

// Percent formats a relative change: "+15.4%", "-3.0%", "±0%".
func Percent(p float64) string {
	switch {
	case math.IsInf(p, 0) || math.IsNaN(p):
		return "n/a"
	case math.Abs(p) < 0.05:
		return "±0%"
	case math.Abs(p) >= 999.5:
		return fmt.Sprintf("%+.0f%%", p)
	}
	return fmt.Sprintf("%+.1f%%", p)
}

// timestamp formats t for a header line, in UTC to the millisecond.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}
