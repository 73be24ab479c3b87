//go:build !linux

package runfile

// On other platforms ReadRuns reads every file the ordinary way.

var pageSize = 4096

func mapAnon(int) ([]byte, bool) { return nil, false }

func unmapAnon([]byte) {}

func releasePages([]byte) {}
