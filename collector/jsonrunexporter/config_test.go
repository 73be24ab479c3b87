package jsonrunexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestConfigStruct(t *testing.T) {
	if err := componenttest.CheckConfigStruct(createDefaultConfig()); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string // parts of the validation error, in the user's words
	}{
		{id: component.NewID(Type), want: func() *Config {
			c := createDefaultConfig().(*Config)
			c.Directory = "/var/lib/stagetrack/runs"
			return c
		}()},
		{id: component.NewIDWithName(Type, "custom"), want: &Config{
			Directory: "./runs", History: "./runs/history.jsonl", MaxPendingRuns: 10,
			RunWait: 5 * time.Second, LateSpanWait: 2 * time.Second, FilePermissions: "0600", RunRoots: RunRootsTraceRoot,
			OpenRunTimeout: 10 * time.Minute,
			Journal:        JournalConfig{Enabled: false, Sync: true}, Recover: false,
			Store: StoreConfig{Directory: "./store-a", MaxOpenRuns: 500, MaxRunBytes: 65536, MaxBytes: 10 << 20},
		}},
		{id: component.NewIDWithName(Type, "nodir"), wantErr: []string{"directory is required"}},
		{id: component.NewIDWithName(Type, "bad"), wantErr: []string{
			"max_pending_runs must be at least 1", "run_wait must not be negative", "late_span_wait must not be negative",
			"file_permissions 0044 would not let the Collector read and write", `run_roots must be "attribute" or "trace_root", got "everything"`,
			"open_run_timeout must not be negative", "store.max_open_runs must be at least 1", "store.max_run_bytes must be at least 4096",
			"store.max_bytes (10) must be at least store.max_run_bytes (100)",
		}},
		{id: component.NewIDWithName(Type, "tracerootnowait"), wantErr: []string{"run_roots: trace_root needs a run_wait above 0"}},
		{id: component.NewIDWithName(Type, "badperm"), wantErr: []string{`file_permissions must be octal permission bits such as "0644", got "rw-r--r--"`}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			sub, err := cm.Sub(tt.id.String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := createDefaultConfig()
			if err := sub.Unmarshal(cfg); err != nil {
				t.Fatal(err)
			}
			err = confmap.Validate(cfg)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("config validated; want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.(*Config); *got != *tt.want {
				t.Errorf("config = %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}
