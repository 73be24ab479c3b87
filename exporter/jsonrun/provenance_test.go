//go:build unix

package jsonrun_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A crashed run recovered from its journal keeps the provenance of its run
// event and the inputs, outputs and tools of its stages' end events; a
// provenance that is not JSON is left out of the journal line and so of
// the file, never making the journal unreadable.
func TestRecoverKeepsProvenance(t *testing.T) {
	tests := []struct {
		name       string
		provenance string
		wantCode   bool
	}{
		{name: "provenance", provenance: `,"provenance":{"code":{"vcs":"git","commit":"` + strings.Repeat("c", 40) + `","dirty":true,"untracked":0},"env":{"A":"\u0001"}}`, wantCode: true},
		{name: "none", provenance: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			journal := filepath.Join(dir, id1+".journal")
			t0 := int64(1746486850235518000)
			lines := []string{
				fmt.Sprintf(`{"e":"run","t":%d,"run_id":%q,"trace_id":"0000000000000000000000000000000a","span_id":"0000000000000001","name":"train","pid":%d,"host":"h"%s}`, t0, id1, deadPID(t), tc.provenance),
				fmt.Sprintf(`{"e":"end","t":%d,"span_id":"0000000000000002","parent_span_id":"0000000000000001","name":"load","start":%d,"end":%d,"provenance":{"inputs":[{"path":"data.csv","size":3,"mtime":"2025-05-05T23:14:10.235518+00:00","sha256":"%s"}],"tools":{"python":"Python 3.11.2"}}}`, t0+2e9, t0+1e9, t0+2e9, strings.Repeat("a", 64)),
			}
			if err := os.WriteFile(journal, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			paths, err := exp.Recover(t.Context())
			if err != nil || len(paths) != 1 {
				t.Fatalf("recovered %v, %v", paths, err)
			}
			r := readRun(t, paths[0])
			if got := r.Provenance != nil && r.Provenance.Code != nil && r.Provenance.Code.Dirty && r.Provenance.Env["A"] == "\x01"; got != tc.wantCode {
				t.Errorf("provenance %+v, want code: %v", r.Provenance, tc.wantCode)
			}
			load, _ := r.Stages.Get("load")
			if len(load.Inputs) != 1 || load.Inputs[0].SHA256 != strings.Repeat("a", 64) || load.Tools["python"] != "Python 3.11.2" {
				t.Errorf("load inputs %+v tools %v", load.Inputs, load.Tools)
			}
		})
	}
}
