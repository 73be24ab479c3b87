package rundiff_test

import (
	"encoding/json"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func TestCompareParams(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want string // JSON of Diff.Params
	}{
		{"same", `{"lr":0.1,"seed":1}`, `{"seed":1,"lr":0.1}`, `null`},
		{"seed differs", `{"lr":0.1,"seed":1}`, `{"lr":0.1,"seed":12}`, `[{"key":"seed","a":1,"b":12,"delta":11,"delta_pct":1100}]`},
		{"nested", `{"opt":{"name":"adam"}}`, `{"opt":{"name":"sgd"},"epochs":3}`, `[{"key":"epochs","b":3},{"key":"opt.name","a":"adam","b":"sgd"}]`},
		{"not an object", `"Reconnaissance_M1"`, `{"lr":1}`, `[{"key":"args","a":"Reconnaissance_M1","b":{"lr":1}}]`},
		{"none in one", ``, `{"lr":1}`, `[{"key":"lr","b":1}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := run(t, "s=1"), run(t, "s=1")
			a.Args, b.Args = json.RawMessage(c.a), json.RawMessage(c.b)
			got, err := json.Marshal(rundiff.Compare(a, b).Params)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("params %s, want %s", got, c.want)
			}
		})
	}
}

// TestCompareProvenance compares the provenance of runs read from run
// files: the run's fields flattened, the stages' files by path (their
// mtime alone is no change) and tool versions.
func TestCompareProvenance(t *testing.T) {
	fileA := `{"run_id":"a","provenance":{"code":{"vcs":"git","commit":"aaa","dirty":false},"tools":{"go":"go1.25.1"}},
	 "stages":{"train":{"status":"ok","inputs":[{"path":"data.csv","size":3,"mtime":"2025-01-01T00:00:00Z","sha256":"11"},
	  {"path":"same.csv","size":1,"mtime":"2025-01-01T00:00:00Z","sha256":"22"}],"tools":{"python":"Python 3.11.2"},
	  "stages":{"inner":{"outputs":[{"path":"m.bin","size":5,"sha256":"33"}]}}}}}`
	fileB := `{"run_id":"b","provenance":{"code":{"vcs":"git","commit":"bbb","dirty":true},"tools":{"go":"go1.25.1"}},
	 "stages":{"train":{"status":"ok","inputs":[{"path":"data.csv","size":4,"mtime":"2025-01-02T00:00:00Z","sha256":"44"},
	  {"path":"same.csv","size":1,"mtime":"2025-01-02T00:00:00Z","sha256":"22"}],"tools":{"python":"Python 3.12.0"},
	  "stages":{"inner":{"outputs":[{"path":"m.bin","size":5,"sha256":"55"}]}}}}}`
	prov := func(file string) rundiff.Provenance {
		var r runfile.Run
		if err := json.Unmarshal([]byte(file), &r); err != nil {
			t.Fatal(err)
		}
		return rundiff.FromRun(&r)
	}
	pa := []rundiff.Provenance{prov(fileA)}
	pb := []rundiff.Provenance{prov(fileB), prov(fileA)}
	a, b := run(t, "train=1", "train/inner=1"), run(t, "train=1", "train/inner=1")
	d := rundiff.Compare(a, b, rundiff.WithProvenance(pa[0], pb[0]))
	for _, c := range []struct {
		name string
		got  any
		want string
	}{
		{"run", d.Provenance, `[{"key":"code.commit","a":"aaa","b":"bbb"},{"key":"code.dirty","a":false,"b":true}]`},
		{"train", d.Stages[0].Provenance, `[{"key":"inputs[data.csv].sha256","a":"11","b":"44"},{"key":"inputs[data.csv].size","a":3,"b":4,"delta":1,"delta_pct":33.33},{"key":"tools.python","a":"Python 3.11.2","b":"Python 3.12.0"}]`},
		{"train/inner", d.Stages[1].Provenance, `[{"key":"outputs[m.bin].sha256","a":"33","b":"55"}]`},
	} {
		got, err := json.Marshal(c.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s provenance %s, want %s", c.name, got, c.want)
		}
	}
	if got := rundiff.Compare(a, b, rundiff.WithProvenance(pa[0], pb[1])); got.Provenance != nil || got.Stages[0].Provenance != nil {
		t.Errorf("same provenance reported as changed: %+v", got)
	}
	if p := prov(`{"run_id":"x","stages":{}}`); p.Run != nil || p.Stages != nil {
		t.Errorf("a run without provenance: %+v; want none", p)
	}
}
