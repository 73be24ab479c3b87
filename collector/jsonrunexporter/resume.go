package jsonrunexporter

import (
	"context"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// resume takes over the open runs a stopped Collector left journals of, so
// that they finish here whole; Recover then writes what is left.
func resume(ctx context.Context, exp *jsonrun.Exporter) ([]string, error) {
	return exp.Resume(ctx)
}
