package cli

import (
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// detectCI returns the CI attributes of the job stagetrack runs in.
func detectCI(getenv func(string) string) map[string]string { return nil }

// setCIAttributes adds CI attributes to the run span.
func setCIAttributes(run *tracker.Run, ci map[string]string) {}

// ciFinish writes the CI summary and annotations of a finished run.
func ciFinish(env *Env, rf *jsonrun.Run) {}
