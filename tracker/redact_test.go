package tracker_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// deep returns {"a":{"a":…{"password":secret}…}} nested n levels.
func deep(n int, secret string) map[string]any {
	v := map[string]any{"password": secret}
	for range n {
		v = map[string]any{"a": v}
	}
	return v
}

type badMarshal struct{ Token string }

func (badMarshal) MarshalJSON() ([]byte, error) { return nil, errors.New("no") }

// A value the redactor cannot inspect is dropped and marked, never passed
// on to any exporter or the run file.
func TestRedactionFailsClosed(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct {
		name    string
		data    any
		wantWhy string
	}{
		{name: "nested deeper than the decoder goes", data: deep(10_050, secret), wantWhy: "nested too deep"},
		{name: "not encodable", data: map[string]any{"password": secret, "ch": make(chan int)}, wantWhy: "not encodable"},
		{name: "a MarshalJSON that fails", data: []any{secret, badMarshal{secret}}, wantWhy: "not encodable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t, pipelineOpt{trOpts: []tracker.Option{tracker.WithRedactKeys(tracker.DefaultRedactKeys()...)}})
			ctx, run := p.tr.Start(t.Context(), tc.data)
			run.StartStage(ctx, "leak")
			run.EndStage("leak", tc.data, nil)
			err := run.Finalize(t.Context())
			if !errors.Is(err, tracker.ErrNotRedactable) {
				t.Errorf("Finalize = %v, want ErrNotRedactable for the args", err)
			}
			for _, s := range p.rec.Ended() {
				for _, a := range s.Attributes() {
					if strings.Contains(a.Value.String(), secret) {
						t.Errorf("span %q attribute %s holds the secret", s.Name(), a.Key)
					}
				}
			}
			raw, rerr := os.ReadFile(run.File())
			if rerr != nil {
				t.Fatal(rerr)
			}
			if strings.Contains(string(raw), secret) {
				t.Error("run file holds the secret")
			}
			rf, rerr := runfile.ReadFile(run.File())
			if rerr != nil {
				t.Fatal(rerr)
			}
			st, _ := rf.Stages.Get("leak")
			if len(st.Data) != 0 || !strings.Contains(st.DataError, "cannot be redacted") || !strings.Contains(st.DataError, tc.wantWhy) {
				t.Errorf("stage data %s, data_error %q; want null and a mark saying %q", st.Data, st.DataError, tc.wantWhy)
			}
			if len(rf.Args) != 0 {
				t.Errorf("args %s, want null", rf.Args)
			}
		})
	}
}
