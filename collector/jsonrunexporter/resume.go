package jsonrunexporter

import (
	"context"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// resume takes over the journals of dead owners, so that their runs go on
// here. Until jsonrun can, it does nothing and Recover writes those runs.
func resume(ctx context.Context, exp *jsonrun.Exporter) ([]string, error) {
	return nil, ctx.Err()
}
