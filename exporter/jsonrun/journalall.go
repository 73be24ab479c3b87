package jsonrun

import (
	"fmt"
	"os"
)

// hasJournal reports whether r has its journal (or its part of the store)
// already: then addStages needs no journal path, a string built for every
// request on the hot path.
func (r *openRun) hasJournal() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.journal != nil
}

// keepJournal gives a run opened from ended spans its journal, with the
// stages it holds, when WithJournalAllRuns asks for one: a process that
// only receives ended spans (a Collector) then loses none on a kill. The
// journal is the one a spill makes, which Recover rebuilds.
func (r *openRun) keepJournal(path string, perm os.FileMode, sync bool, host string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || r.joined || r.journal != nil {
		return nil
	}
	if err := r.newJournal(path, perm, sync, host); err != nil {
		return fmt.Errorf("jsonrun: run %s: journal %s: %w", r.id, path, err)
	}
	return nil
}
