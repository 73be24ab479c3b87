package runschema_test

import (
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runschema"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// BenchmarkValid checks a run file of 10,000 stages (runfixture.Large, a
// later run: errors, nested attempts) with the quick check validate uses.
//
//	go test -run '^$' -bench Valid ./cmd/stagetrack/internal/runschema
func BenchmarkValid(b *testing.B) {
	sch, err := runschema.Compile(runfile.Schema())
	if err != nil {
		b.Fatal(err)
	}
	doc := runfixture.Large(10_000, 1).AppendIndent(nil)
	if !sch.Valid(doc) {
		b.Fatal("not valid")
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		sch.Valid(doc)
	}
}
