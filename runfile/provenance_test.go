package runfile_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// provenanceRun is a run with every provenance field set, strings hostile.
func provenanceRun() *runfile.Run {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	return &runfile.Run{
		RunID: "3f2c0000-0000-4000-8000-000000000001", SchemaVersion: runfile.SchemaVersion, Name: "pipeline",
		Status: runfile.StatusOK, StartTime: t0, CompletedAt: t0.Add(3 * time.Second), TotalDurationSec: 3,
		TraceID: strings.Repeat("a", 32), SpanID: strings.Repeat("b", 16), StageCount: 1,
		Provenance: &runfile.Provenance{
			Code: &runfile.Code{VCS: "git", Commit: strings.Repeat("c", 40), Branch: "main", Dirty: true,
				DiffSHA256: strings.Repeat("d", 64), Untracked: 3},
			Command:    []string{"python", "train.py", "--lr", "0.1", "x\"\n\x00\u2028<y>"},
			WorkingDir: "/home/me/exp \x1b[31m",
			Machine: &runfile.Machine{OS: "linux", Arch: "amd64", Kernel: "6.1.0-18", CPUModel: "Some CPU @ 3GHz",
				CPUs: 8, MemoryBytes: 34359738368, GPUs: []string{"NVIDIA A100", "NVIDIA A100"}, ContainerImage: "sha256:" + strings.Repeat("e", 64)},
			Tools: map[string]string{"python": "Python 3.11.2", "go": "go1.25.1"},
			Env:   map[string]string{"CUDA_VISIBLE_DEVICES": "0", "TOKEN\t": "[REDACTED]"},
		},
		Stages: runfile.Stages{{
			Key: "train", Name: "train", Attempt: 1, Status: runfile.StageOK, SpanID: strings.Repeat("1", 16),
			StartTime: t0, EndTime: t0.Add(2 * time.Second), DurationSec: 2,
			Inputs: []runfile.File{
				{Path: "data.csv", Size: 123, ModTime: t0.Add(-time.Hour), SHA256: strings.Repeat("f", 64)},
				{Path: "missing\n\"file\"", Size: 0},
			},
			Outputs: []runfile.File{{Path: "model.bin", Size: 1 << 40, ModTime: t0.Add(2 * time.Second), SHA256: strings.Repeat("0", 64)}},
			Tools:   map[string]string{"python": "Python 3.11.2"},
		}},
	}
}

// The provenance section and the stages' inputs, outputs and tools are
// written in the documented order and read back to the same value, by
// both stage decoders; the file is valid JSON and matches the schema.
func TestProvenanceRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		run  func() *runfile.Run
	}{
		{name: "everything", run: provenanceRun},
		{name: "code only", run: func() *runfile.Run {
			r := provenanceRun()
			r.Provenance = &runfile.Provenance{Code: &runfile.Code{VCS: "git", Commit: strings.Repeat("c", 40)}}
			r.Stages[0].Inputs, r.Stages[0].Outputs, r.Stages[0].Tools = nil, nil, nil
			return r
		}},
		{name: "empty provenance", run: func() *runfile.Run {
			r := provenanceRun()
			r.Provenance = &runfile.Provenance{}
			return r
		}},
		{name: "none", run: func() *runfile.Run {
			r := provenanceRun()
			r.Provenance = nil
			r.Stages[0].Inputs, r.Stages[0].Outputs, r.Stages[0].Tools = nil, nil, nil
			return r
		}},
	}
	sch := compileSchema(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.run()
			for _, indent := range []bool{true, false} {
				var b []byte
				if indent {
					var buf bytes.Buffer
					if err := runfile.Write(&buf, want); err != nil {
						t.Fatal(err)
					}
					b = buf.Bytes()
				} else {
					b, _ = json.Marshal(want)
				}
				if !json.Valid(b) {
					t.Fatalf("not valid JSON:\n%s", b)
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Errorf("does not match the schema: %v\n%s", err, b)
				}
				runs, err := runfile.DecodeRuns(b, "r.json")
				if err != nil {
					t.Fatal(err)
				}
				got := runs[0]
				if !reflect.DeepEqual(got.Provenance, want.Provenance) {
					t.Errorf("provenance read back\n %#v\nwant %#v", got.Provenance, want.Provenance)
				}
				if !reflect.DeepEqual(utc(got.Stages), utc(want.Stages)) {
					t.Errorf("stages read back\n %#v\nwant %#v", got.Stages, want.Stages)
				}
				if want.Provenance == nil && bytes.Contains(b, []byte(`"provenance"`)) {
					t.Errorf("a run without provenance has the key:\n%s", b)
				}
			}
		})
	}
}

// The keys come in the documented order: provenance last in the run,
// code, command, working_dir, machine, tools, env inside it, and a stage's
// inputs, outputs and tools after its other keys.
func TestProvenanceKeyOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := runfile.Write(&buf, provenanceRun()); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	order := []string{`"stages"`, `"inputs"`, `"outputs"`, `"tools"`, `"completed_at"`, `"span_id"`, `"stage_count"`,
		`"provenance"`, `"code"`, `"vcs"`, `"commit"`, `"branch"`, `"dirty"`, `"diff_sha256"`, `"untracked"`,
		`"command"`, `"working_dir"`, `"machine"`, `"os"`, `"arch"`, `"kernel"`, `"cpu_model"`, `"cpus"`,
		`"memory_bytes"`, `"gpus"`, `"container_image"`, `"tools"`, `"go"`, `"python"`, `"env"`, `"CUDA_VISIBLE_DEVICES"`, `"TOKEN\t"`}
	at := 0
	for _, k := range order {
		i := strings.Index(s[at:], k)
		if i < 0 {
			t.Fatalf("%s not found after byte %d:\n%s", k, at, s)
		}
		at += i + len(k)
	}
	if !strings.Contains(s, `{"path": "data.csv", "size": 123, "mtime": "2026-05-01T11:00:00.123456+00:00", "sha256": "ffff`) &&
		!strings.Contains(s, `{"path":"data.csv","size":123,"mtime":"2026-05-01T11:00:00.123456+00:00","sha256":"ffff`) {
		t.Errorf("a file is not one object a line in the documented order:\n%s", s)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(runfile.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://github.com/stage-tracker/stage-tracker/exporter/jsonrun/schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// utc is s with its times in UTC, which is what a file can say.
func utc(s runfile.Stages) runfile.Stages {
	s = slices.Clone(s)
	for i := range s {
		st := &s[i]
		st.StartTime, st.EndTime = st.StartTime.UTC(), st.EndTime.UTC()
		for _, fs := range []*[]runfile.File{&st.Inputs, &st.Outputs} {
			*fs = slices.Clone(*fs)
			for j := range *fs {
				(*fs)[j].ModTime = (*fs)[j].ModTime.UTC()
			}
		}
		st.Stages = utc(st.Stages)
	}
	return s
}
