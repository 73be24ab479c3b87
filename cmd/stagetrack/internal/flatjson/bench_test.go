package flatjson_test

import (
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
)

// BenchmarkWalk flattens the data of stages as stats and report meet them:
// small objects of numbers, nested metrics, and a stderr tail of 2 KB
// with escapes.
//
//	go test -run '^$' -bench Walk ./cmd/stagetrack/internal/flatjson
func BenchmarkWalk(b *testing.B) {
	tail := strings.Repeat(`line of output with a \"quote\" and a tab\t`, 48)
	docs := [][]byte{
		[]byte(`{"j":12,"v":1}`),
		[]byte(`{"rows":1200,"metrics":{"top1":0.912,"top5":0.991,"loss":0.3125},"model":"resnet-50","tags":["a","b"]}`),
		[]byte(`{"exit_code":1,"stderr_tail":"` + tail + `"}`),
		[]byte("{\n  \"epoch\": 3,\n  \"lr\": 0.001,\n  \"optimizer\": {\n    \"name\": \"adam\",\n    \"betas\": [0.9, 0.999]\n  }\n}"),
	}
	n := 0
	for b.Loop() {
		for _, d := range docs {
			flatjson.Walk(d, func(string, []byte) { n++ })
		}
	}
}
