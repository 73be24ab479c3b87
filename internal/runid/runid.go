// Package runid defines the one spelling of a run id, for every path by
// which a run id enters stage-tracker: the tracker's options and
// STAGE_TRACKER_RUN_ID, span attributes read by the exporter (and so by the
// Collector), journals, and the stagetrack commands.
//
// A run id is a UUID. Its canonical spelling is the lower-case, dashed
// 8-4-4-4-12 form that Python's str(uuid.uuid4()) gives, which the Python
// stage-tracker writes and the run file's schema describes. The other
// spellings of a UUID (upper case, "urn:uuid:…", "{…}", 32 hex digits
// without dashes) name the same run and are normalised to it; anything
// else is not a run id and is refused.
package runid

import (
	"fmt"

	"github.com/google/uuid"
)

// Canonical returns id in its canonical spelling, or an error naming id
// when it is not a UUID in any spelling. An id already canonical is
// returned as it is, without allocating: the exporter calls this for every
// span that names a run.
func Canonical(id string) (string, error) {
	if IsCanonical(id) {
		return id, nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("run id %q is not a UUID", clip(id))
	}
	return u.String(), nil
}

// IsCanonical reports whether id is a UUID in its canonical spelling.
func IsCanonical(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// clip bounds what an error quotes of a hostile id.
func clip(id string) string {
	const max = 64
	if len(id) > max {
		return id[:max] + "…"
	}
	return id
}
