package report

import (
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// when is a time as the page shows it: readable text, with the run file's
// exact ISO value in the title (shown on hover) and in datetime.
type when struct {
	Human, ISO string
}

func newWhen(t time.Time) when {
	if t.IsZero() {
		return when{}
	}
	t = t.UTC()
	return when{Human: t.Format("Mon 2 Jan 2006, 15:04:05 UTC"), ISO: t.Format(runfile.TimeLayout)}
}
