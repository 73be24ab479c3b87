package runfixture

import (
	"context"
	"errors"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Fixture is a named run file.
type Fixture struct {
	Name string // file name without .json
	Run  *runfile.Run
}

// Epoch is when the fixtures' first run starts.
var epoch = time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)

const (
	ms = time.Millisecond
	s  = time.Second
)

// Fixtures returns the fixed runs the command tests and the report check
// use, each recorded through the tracker:
//
//   - train-a: an ML training run: load_data, preprocess, train with three
//     nested epochs (keys epoch#1, epoch#2, epoch), evaluate, export.
//   - train-b: the next day's run of the same pipeline: slower training,
//     different data, evaluate fails, export missing, notify added.
//   - security: the quick start's security pipeline with two enrichment
//     lookups in parallel (one failing with markup in its error) and a
//     report stage left open at Finalize (unfinished).
func Fixtures(ctx context.Context) ([]Fixture, error) {
	var out []Fixture
	var errs []error
	add := func(name string, r *runfile.Run, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		out = append(out, Fixture{Name: name, Run: r})
	}
	r, err := trainA(ctx)
	add("train-a", r, err)
	r, err = trainB(ctx)
	add("train-b", r, err)
	r, err = security(ctx)
	add("security", r, err)
	return out, errors.Join(errs...)
}

func trainA(ctx context.Context) (*runfile.Run, error) {
	b := Start(ctx, "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f", epoch,
		map[string]any{"dataset": "cifar10", "model": "resnet18", "lr": 0.01}, tracker.WithRunName("train-resnet18"))
	root := b.Context()
	b.Stage(root, "load_data", 0, 1200*ms, map[string]any{"rows": 50000, "source": "s3://ml-data/cifar10"}, nil)
	b.Stage(root, "preprocess", 1200*ms, 2*s, map[string]any{"augment": true}, nil)
	tctx, train := b.StartStage(root, "train", 2*s)
	b.Stage(tctx, "epoch", 2*s, 4500*ms, map[string]any{"loss": 0.93}, nil)
	b.Stage(tctx, "epoch", 4500*ms, 7*s, map[string]any{"loss": 0.58}, nil)
	b.Stage(tctx, "epoch", 7*s, 9500*ms, map[string]any{"loss": 0.41}, nil)
	b.End(train, 9500*ms, map[string]any{"epochs": 3, "best_loss": 0.41}, nil)
	b.Stage(root, "evaluate", 9500*ms, 10600*ms, map[string]any{"accuracy": 0.912}, nil)
	b.Stage(root, "export", 10600*ms, 10900*ms, map[string]any{"path": "models/resnet18.pt"}, nil)
	return b.Finalize(11 * s)
}

func trainB(ctx context.Context) (*runfile.Run, error) {
	b := Start(ctx, "9a1b7c3d-2e4f-4a6b-8c0d-1e2f3a4b5c6d", epoch.Add(24*time.Hour),
		map[string]any{"dataset": "cifar10", "model": "resnet18", "lr": 0.02}, tracker.WithRunName("train-resnet18"))
	root := b.Context()
	b.Stage(root, "load_data", 0, 1150*ms, map[string]any{"rows": 52000, "source": "s3://ml-data/cifar10"}, nil)
	b.Stage(root, "preprocess", 1150*ms, 1950*ms, map[string]any{"augment": true}, nil)
	tctx, train := b.StartStage(root, "train", 1950*ms)
	b.Stage(tctx, "epoch", 1950*ms, 4600*ms, map[string]any{"loss": 1.12}, nil)
	b.Stage(tctx, "epoch", 4600*ms, 7900*ms, map[string]any{"loss": 0.77}, nil)
	b.Stage(tctx, "epoch", 7900*ms, 11400*ms, map[string]any{"loss": 0.66}, nil)
	b.End(train, 11400*ms, map[string]any{"epochs": 3, "best_loss": 0.66, "early_stop": false}, nil)
	b.Stage(root, "evaluate", 11400*ms, 12700*ms, map[string]any{"accuracy": 0.874},
		errors.New("accuracy 0.874 below threshold 0.9"))
	b.Stage(root, "notify", 12700*ms, 12900*ms, map[string]any{"channel": "#ml-alerts"}, nil)
	return b.Finalize(13 * s)
}

func security(ctx context.Context) (*runfile.Run, error) {
	b := Start(ctx, "c355abaa-cb8c-4cad-ae67-47bce23be244", epoch.Add(2*time.Hour), "Reconnaissance_M1")
	root := b.Context()
	b.Stage(root, "Detection", 0, 3*s, map[string]any{"status": "clean", "hosts": 254}, nil)
	ectx, enrich := b.StartStage(root, "Enrichment", 3*s)
	_, nvd := b.StartStage(ectx, "nvd", 3100*ms)
	_, osv := b.StartStage(ectx, "osv", 3150*ms)
	b.End(osv, 4200*ms, map[string]any{"status_code": 503, "retries": 2}, errors.New(`osv: 503 <html><b>Service Unavailable</b></html> & retry later`))
	b.End(nvd, 5600*ms, map[string]any{"cves": []string{"CVE-2024-3094", "CVE-2023-4863"}}, nil)
	b.End(enrich, 5700*ms, map[string]any{"added_cves": 2}, nil)
	b.StartStage(root, "Report", 5800*ms) // left open: Finalize records it as unfinished
	return b.Finalize(6500 * ms)
}
