package jsonrunexporter

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Run-root rules: which spans start a run (docs/attributes.md, run
// convention v1).
const (
	// RunRootsAttribute: a span with stage_tracker.run.id and without
	// stage_tracker.stage.name is a run's root.
	RunRootsAttribute = "attribute"
	// RunRootsTraceRoot: also the root span of every trace is a run.
	RunRootsTraceRoot = "trace_root"
)

// Config is the jsonrun exporter's configuration.
type Config struct {
	// Directory receives the run files (<run_id>.json) and the journals of
	// open runs. Required.
	Directory string `mapstructure:"directory"`
	// History, when set, is a JSON Lines file every finished run is
	// appended to.
	History string `mapstructure:"history"`
	// MaxPendingRuns bounds the runs whose stages are held in memory;
	// beyond it the oldest run's stages go to its journal only.
	MaxPendingRuns int `mapstructure:"max_pending_runs"`
	// RunWait is how long spans of a trace whose run is not known yet (no
	// span of it names its run) wait for it; then they are dropped.
	RunWait time.Duration `mapstructure:"run_wait"`
	// LateSpanWait is how long a run whose root arrived waits for stages
	// still on their way from other hosts; a root that says its stage count
	// is written as soon as they are in.
	LateSpanWait time.Duration `mapstructure:"late_span_wait"`
	// FilePermissions of run, history and journal files, octal ("0600").
	FilePermissions string `mapstructure:"file_permissions"`
	// RunRoots is the rule for a run's root span: "attribute" (default) or
	// "trace_root".
	RunRoots string `mapstructure:"run_roots"`
	// OpenRunTimeout writes a run whose run span has not arrived this long
	// after its first span as incomplete; 0 keeps such runs open.
	OpenRunTimeout time.Duration `mapstructure:"open_run_timeout"`
	// Journal of open runs, for crash safety.
	Journal JournalConfig `mapstructure:"journal"`
	// Store bounds the store of open runs (with the journal on).
	Store StoreConfig `mapstructure:"store"`
	// Recover, on start, the journals that dead owners (a killed Collector)
	// left in Directory: their runs are taken over and finished when their
	// root span arrives. On by default.
	Recover bool `mapstructure:"recover_on_start"`

	// Prevent unkeyed literals.
	_ struct{}
}

// JournalConfig is the journal of open runs.
type JournalConfig struct {
	// Enabled journals every open run (default true). Off, a Collector
	// crash loses the stages of the runs it holds.
	Enabled bool `mapstructure:"enabled"`
	// Sync fsyncs after every event, so that stages survive a power loss
	// too, at a disk flush per stage.
	Sync bool `mapstructure:"sync"`
}

// StoreConfig bounds the store that holds every open run's stages on disk
// (<directory>/.openruns) while the journal is on. Past a bound, spans are
// refused with a code their senders retry (gRPC RESOURCE_EXHAUSTED, HTTP
// 429), never accepted and then lost.
type StoreConfig struct {
	// Directory holds the store; default <directory>/.openruns. Collectors
	// that share a directory of run files need one each.
	Directory string `mapstructure:"directory"`
	// MaxOpenRuns is how many runs may be open at once.
	MaxOpenRuns int `mapstructure:"max_open_runs"`
	// MaxRunBytes bounds the bytes one open run holds.
	MaxRunBytes int64 `mapstructure:"max_run_bytes"`
	// MaxBytes bounds the store's bytes on disk.
	MaxBytes int64 `mapstructure:"max_bytes"`
}

var _ component.Config = (*Config)(nil)

// Validate says what is wrong with the configuration, in the user's words.
func (c *Config) Validate() error {
	var errs []error
	if c.Directory == "" {
		errs = append(errs, errors.New("directory is required: where run files and journals go"))
	}
	if c.MaxPendingRuns < 1 {
		errs = append(errs, fmt.Errorf("max_pending_runs must be at least 1, got %d", c.MaxPendingRuns))
	}
	if c.RunWait < 0 {
		errs = append(errs, fmt.Errorf("run_wait must not be negative, got %s", c.RunWait))
	}
	if c.LateSpanWait < 0 {
		errs = append(errs, fmt.Errorf("late_span_wait must not be negative, got %s", c.LateSpanWait))
	}
	if c.OpenRunTimeout < 0 {
		errs = append(errs, fmt.Errorf("open_run_timeout must not be negative, got %s", c.OpenRunTimeout))
	}
	if c.Store.MaxOpenRuns < 1 {
		errs = append(errs, fmt.Errorf("store.max_open_runs must be at least 1, got %d", c.Store.MaxOpenRuns))
	}
	if c.Store.MaxRunBytes < 4096 {
		errs = append(errs, fmt.Errorf("store.max_run_bytes must be at least 4096, got %d", c.Store.MaxRunBytes))
	}
	if c.Store.MaxBytes < c.Store.MaxRunBytes {
		errs = append(errs, fmt.Errorf("store.max_bytes (%d) must be at least store.max_run_bytes (%d)", c.Store.MaxBytes, c.Store.MaxRunBytes))
	}
	if _, err := c.perm(); err != nil {
		errs = append(errs, err)
	}
	switch c.RunRoots {
	case RunRootsAttribute:
	case RunRootsTraceRoot:
		if c.RunWait == 0 {
			errs = append(errs, errors.New("run_roots: trace_root needs a run_wait above 0: a trace's root span arrives after its children, which must wait for it"))
		}
	default:
		errs = append(errs, fmt.Errorf("run_roots must be %q or %q, got %q", RunRootsAttribute, RunRootsTraceRoot, c.RunRoots))
	}
	return errors.Join(errs...)
}

// perm parses FilePermissions.
func (c *Config) perm() (uint32, error) {
	p, err := strconv.ParseUint(c.FilePermissions, 8, 32)
	if err != nil || p > 0o777 {
		return 0, fmt.Errorf("file_permissions must be octal permission bits such as \"0644\", got %q", c.FilePermissions)
	}
	if p&0o600 != 0o600 {
		return 0, fmt.Errorf("file_permissions %s would not let the Collector read and write its own files: it needs at least 0600", c.FilePermissions)
	}
	return uint32(p), nil
}
