package tracker

import "context"

// RunFromContext returns the run that ctx is inside: a context returned by
// Tracker.Start, StartOrJoin or Join, by Run.StartStage, or given to the
// function of Run.Stage. It returns nil for any other context.
func RunFromContext(ctx context.Context) *Run {
	if sc, _ := ctx.Value(scopeKey{}).(*scope); sc != nil {
		return sc.run
	}
	return nil
}

// StageFromContext returns the innermost stage that ctx is inside: a
// context returned by Run.StartStage or given to the function of Run.Stage.
// It returns nil for a context of the run itself and for any other context.
func StageFromContext(ctx context.Context) *Stage {
	if sc, _ := ctx.Value(scopeKey{}).(*scope); sc != nil {
		return sc.st
	}
	return nil
}
