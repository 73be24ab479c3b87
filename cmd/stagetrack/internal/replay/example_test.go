package replay_test

import (
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/replay"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Spans turns a run file back into its spans, ready for any exporter's
// ExportSpans: stubs.Snapshots().
func ExampleSpans() {
	r, err := runfile.ReadFile("../cli/testdata/runs/security.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	stubs, err := replay.Spans(r, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range stubs {
		fmt.Printf("%-18s span %s parent %s %s\n", s.Name, s.SpanContext.SpanID(), s.Parent.SpanID(), s.Status.Code)
	}
	// Output:
	// Reconnaissance_M1  span 81b2b4a6aaccdbc5 parent 0000000000000000 Error
	// Detection          span 23eb3e6d2b125ffa parent 81b2b4a6aaccdbc5 Unset
	// Enrichment         span c523a033a859d3ef parent 81b2b4a6aaccdbc5 Unset
	// nvd                span 67582bfa28af5784 parent c523a033a859d3ef Unset
	// osv                span 0890ad80a9f2cbb9 parent c523a033a859d3ef Error
	// Report             span aac917472e384fae parent 81b2b4a6aaccdbc5 Unset
}
