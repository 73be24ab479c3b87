package jsonrunexporter

import (
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

type sdkSpan = sdktrace.ReadOnlySpan

// jsonrunOptions maps the configuration onto jsonrun's options.
func jsonrunOptions(c *Config) ([]jsonrun.Option, error) {
	perm, err := c.perm()
	if err != nil {
		return nil, err
	}
	opts := []jsonrun.Option{
		jsonrun.WithDir(c.Directory),
		jsonrun.WithFilePerm(os.FileMode(perm)),
		jsonrun.WithMaxPendingRuns(c.MaxPendingRuns),
	}
	if c.History != "" {
		opts = append(opts, jsonrun.WithHistory(c.History))
	}
	if c.Journal.Sync {
		opts = append(opts, jsonrun.WithJournalSync())
	}
	return opts, nil
}
