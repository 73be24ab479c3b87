package jsonrunexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Many hosts send the stages of the same runs at once, as exporterhelper's
// callers do from several goroutines: every stage lands in its run's file.
func TestConcurrentSendersOfOneRun(t *testing.T) {
	const senders, perSender, runs = 8, 10, 3
	dir := t.TempDir()
	exp := newExporter(t, testConfig(dir))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for i := range perSender {
				for r := range runs {
					id := byte(2 + g*perSender + i)
					td := traces(fmt.Sprintf("5f0c8a61-3333-4e2b-9a3c-%012d", r), byte(r+1),
						spanSpec{id: id, parent: 1, stage: fmt.Sprintf("host%d-step%d", g, i)})
					if err := exp.ConsumeTraces(ctx, td); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for r := range runs {
		id := fmt.Sprintf("5f0c8a61-3333-4e2b-9a3c-%012d", r)
		if err := exp.ConsumeTraces(ctx, traces(id, byte(r+1), spanSpec{id: 1, count: senders * perSender})); err != nil {
			t.Fatal(err)
		}
		run, err := runfile.ReadFile(filepath.Join(dir, id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Stages) != senders*perSender || run.MissingStages != 0 {
			t.Errorf("run %d: %d stages, %d missing; want %d, 0", r, len(run.Stages), run.MissingStages, senders*perSender)
		}
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
