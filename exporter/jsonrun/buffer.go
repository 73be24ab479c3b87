package jsonrun

// stageBuffer holds a pending run's stage records in fixed-size chunks, so
// that a run of many stages never copies what it already holds: appending to
// one growing slice moved every record again at each doubling, and that was
// a third of the cost of a stage in a long run.
type stageBuffer struct {
	chunks [][]stageRecord
	n      int
}

// Chunks start small, so a run of few stages holds little, and double up to
// maxStageChunk records.
const minStageChunk, maxStageChunk = 4, 128

func (b *stageBuffer) add(r stageRecord) {
	if n := len(b.chunks); n == 0 || len(b.chunks[n-1]) == cap(b.chunks[n-1]) {
		size := minStageChunk
		if n > 0 {
			size = min(2*cap(b.chunks[n-1]), maxStageChunk)
		}
		b.chunks = append(b.chunks, make([]stageRecord, 0, size))
	}
	last := &b.chunks[len(b.chunks)-1]
	*last = append(*last, r)
	b.n++
}

// all returns the records as one slice, for assembling.
func (b *stageBuffer) all() []stageRecord {
	if len(b.chunks) == 1 {
		return b.chunks[0]
	}
	out := make([]stageRecord, 0, b.n)
	for _, c := range b.chunks {
		out = append(out, c...)
	}
	return out
}
