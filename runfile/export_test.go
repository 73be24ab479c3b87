package runfile

// ReadRunsOffHeap is ReadRuns reading files of at least offHeap bytes
// outside the Go heap, giving back their pages chunk bytes at a time: the
// large-file path, tested on small files.
func ReadRunsOffHeap(path string, offHeap int64, chunk int) ([]*Run, error) {
	return readRuns(path, offHeap, chunk)
}
