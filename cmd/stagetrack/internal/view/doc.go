// Package view renders runs for a terminal: the waterfall of one run
// (Waterfall), the comparison of two (Diff) and the summary of many
// (Stats). Each is a pure function from values to text, so the commands
// that print them are thin and the output is tested with golden files.
//
// Every string taken from a run file, statuses included, is sanitised by
// Clean before it is printed: control characters (an ESC in a stage name
// could drive the terminal) and bidi overrides are shown as U+FFFD. Columns
// are measured in terminal cells: East Asian wide characters and wide emoji
// take two (golang.org/x/text/width), combining marks none.
//
// The functions are safe for concurrent use.
package view

// Options say how to render for the place the output goes. It is a plain
// value.
type Options struct {
	// Color enables ANSI colours. The caller decides: on only when stdout
	// is a terminal and NO_COLOR is unset.
	Color bool
	// Width is the number of columns to fit. Zero means 100; other values
	// are clamped to [MinWidth, MaxWidth].
	Width int
}

// The range of widths the views render to. A width from the environment
// (COLUMNS) or a flag outside it is clamped, so that no value can make a
// view allocate without bound or draw a table with no room for a bar.
const (
	MinWidth = 20
	MaxWidth = 1000
)

func (o Options) width() int {
	if o.Width <= 0 {
		return 100
	}
	return min(max(o.Width, MinWidth), MaxWidth)
}
