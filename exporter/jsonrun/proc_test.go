package jsonrun

import (
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// The cache must give each resource its own process, however the spans
// of several processes (a receiver's, a Collector's) interleave, and from
// several goroutines at once.
func TestProcCacheInterleavedResources(t *testing.T) {
	a := resource.NewSchemaless(attribute.String("host.name", "a"), attribute.Int("process.pid", 1))
	b := resource.NewSchemaless(attribute.String("host.name", "b"), attribute.Int("process.pid", 2))
	want := map[*resource.Resource]proc{a: {"a", 1}, b: {"b", 2}, nil: {}}
	var c procCache
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				res := []*resource.Resource{a, b, nil}[(i+g)%3]
				if got := c.of(res); got != want[res] {
					t.Errorf("proc of %v = %v, want %v", res, got, want[res])
					return
				}
			}
		})
	}
	wg.Wait()
	var none *procCache
	if got := none.of(a); got != want[a] {
		t.Errorf("nil cache: %v, want %v", got, want[a])
	}
}
