package jsonrun

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// stageBuffer holds a pending run's stage records in fixed-size chunks, so
// that a run of many stages never copies what it already holds: appending to
// one growing slice moved every record again at each doubling, and that was
// a third of the cost of a stage in a long run.
//
// The chunks hold records packed (packedStage): a long run's buffer is most
// of what the exporter holds, and a stageRecord is built for assembling, not
// for keeping.
type stageBuffer struct {
	chunks [][]packedStage
	n      int
	// origin is where the last record came from: the stages of a run nearly
	// all share it, so records point at one copy.
	origin *origin
}

// Chunks start small, so a run of few stages holds little, and double up to
// maxStageChunk records.
const minStageChunk, maxStageChunk = 4, 128

// packedStage is a stageRecord as the buffer keeps it: times as seconds and
// nanoseconds (a time.Time is 24 bytes, its location and monotonic reading
// are not written to the file), and the fields a stage that ended normally
// does not have behind one pointer. 88 bytes, against 192 unpacked.
type packedStage struct {
	name             string
	data             string
	spanID, parentID [8]byte
	startSec, endSec int64
	startNs, endNs   int32
	rare             *rareStage // nil for a stage that ended normally
	origin           *origin    // nil when nothing is known of it
}

// origin is what a stage's span says of where it came from: its process,
// its resource, and whether it named its run (loose: it did not). All the
// stages of one process share these.
type origin struct {
	proc  proc
	res   attribute.Distinct
	loose bool
}

// rareStage is what few stages carry: an error, a status, a stack, files.
type rareStage struct {
	failed, timedOut                     bool
	errMsg, status, dataErr, stack, prov string
	claim                                int // a count span's record (stageRecord.claim)
}

func (b *stageBuffer) add(r stageRecord) {
	if n := len(b.chunks); n == 0 || len(b.chunks[n-1]) == cap(b.chunks[n-1]) {
		size := minStageChunk
		if n > 0 {
			size = min(2*cap(b.chunks[n-1]), maxStageChunk)
		}
		b.chunks = append(b.chunks, make([]packedStage, 0, size))
	}
	last := &b.chunks[len(b.chunks)-1]
	*last = append(*last, b.pack(&r))
	b.n++
}

func (b *stageBuffer) pack(r *stageRecord) packedStage {
	p := packedStage{
		name:     r.name,
		data:     r.data,
		spanID:   r.spanID,
		parentID: r.parentID,
		startSec: r.start.Unix(), startNs: int32(r.start.Nanosecond()),
		endSec: r.end.Unix(), endNs: int32(r.end.Nanosecond()),
	}
	if r.failed || r.errMsg != "" || r.status != "" || r.dataErr != "" || r.stack != "" || r.timedOut || r.prov != "" || r.claim > 0 {
		p.rare = &rareStage{failed: r.failed, errMsg: r.errMsg, status: r.status, dataErr: r.dataErr, stack: r.stack, timedOut: r.timedOut, prov: r.prov, claim: r.claim}
	}
	if o := (origin{proc: r.proc, res: r.res, loose: r.loose}); o != (origin{}) {
		if b.origin == nil || *b.origin != o {
			b.origin = &o
		}
		p.origin = b.origin
	}
	return p
}

func (p *packedStage) unpack() stageRecord {
	r := stageRecord{
		name:     p.name,
		data:     p.data,
		spanID:   p.spanID,
		parentID: p.parentID,
		start:    unpackTime(p.startSec, p.startNs),
		end:      unpackTime(p.endSec, p.endNs),
	}
	if p.rare != nil {
		r.failed, r.errMsg, r.status, r.dataErr, r.stack = p.rare.failed, p.rare.errMsg, p.rare.status, p.rare.dataErr, p.rare.stack
		r.timedOut, r.prov, r.claim = p.rare.timedOut, p.rare.prov, p.rare.claim
	}
	if o := p.origin; o != nil {
		r.proc, r.res, r.loose = o.proc, o.res, o.loose
	}
	return r
}

// unpackTime is the inverse of packing t as t.Unix() and t.Nanosecond();
// the zero time stays zero.
func unpackTime(sec int64, ns int32) time.Time {
	if t := (time.Time{}); sec == t.Unix() && ns == 0 {
		return t
	}
	return time.Unix(sec, int64(ns))
}

// take returns the records as one slice, for assembling, and empties the
// buffer; each chunk is released as soon as it is unpacked, so the packed
// and the unpacked copy of a run are never both whole in memory.
func (b *stageBuffer) take() []stageRecord {
	out := make([]stageRecord, 0, b.n)
	for i, c := range b.chunks {
		for j := range c {
			out = append(out, c[j].unpack())
		}
		b.chunks[i] = nil
	}
	*b = stageBuffer{}
	return out
}

// all returns the records as one slice and keeps them.
func (b *stageBuffer) all() []stageRecord {
	out := make([]stageRecord, 0, b.n)
	for _, c := range b.chunks {
		for j := range c {
			out = append(out, c[j].unpack())
		}
	}
	return out
}
