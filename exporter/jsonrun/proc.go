package jsonrun

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// proc is the host and process a span came from: its resource's host.name
// and process.pid, or what a joined process's journal says.
type proc struct {
	host string
	pid  int
}

// procOf reads a span's process from its resource.
func procOf(res *resource.Resource) proc {
	if res == nil {
		return proc{}
	}
	set := res.Set()
	var p proc
	if v, ok := set.Value(semconvHostName); ok {
		p.host = v.AsString()
	}
	if v, ok := set.Value(semconvProcessPID); ok {
		p.pid = int(v.AsInt64())
	}
	return p
}

// procCache remembers the proc of the last resource it read: an SDK gives
// every span of a provider the same *resource.Resource, so nearly every
// stage finds its proc there, without two lookups in the resource's set
// (a few percent of a stage). A nil *procCache reads every time. Safe for
// concurrent use.
type procCache struct{ last atomic.Pointer[resProc] }

type resProc struct {
	res  *resource.Resource
	proc proc
}

func (c *procCache) of(res *resource.Resource) proc {
	if c == nil {
		return procOf(res)
	}
	if l := c.last.Load(); l != nil && l.res == res {
		return l.proc
	}
	p := procOf(res)
	c.last.Store(&resProc{res, p})
	return p
}

// The resource attributes procOf reads (semantic conventions).
const (
	semconvHostName   = attribute.Key("host.name")
	semconvProcessPID = attribute.Key("process.pid")
)
