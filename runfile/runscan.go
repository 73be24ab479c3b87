package runfile

import (
	"encoding/json"
	"strings"
)

// scan decodes the valid JSON b into r as UnmarshalJSON's encoding/json
// path does, and reports whether it could. Only the run's stages, nearly
// all of a file, are scanned from the bytes (scanner.stages); the run's
// other members are copied into a small object that encoding/json decodes
// into runJSON as before, so every other field, present or added later,
// decodes by the same rules. On false r is unchanged and the caller
// decodes b the slow way, whose value or error is the reader's: anything
// the scanner does not expect (a key with an escape or beyond ASCII, which
// encoding/json might fold to "stages"; stages it cannot scan; a value
// encoding/json refuses) takes that way.
func (r *Run) scan(b []byte) bool { return r.scanReleasing(b, nil) }

// scanReleasing is scan that calls release(i) after each top-level stage
// with the offset in b the scan has reached: the bytes before it are
// never read again, and their memory may be given back (readRunsOffHeap).
func (r *Run) scanReleasing(b []byte, release func(int)) bool {
	s := scanner{b: b, release: release}
	if !s.next('{') {
		return false
	}
	rest := make([]byte, 0, 1024)
	rest = append(rest, '{')
	var (
		stages stagesJSON
		found  bool
	)
	if !s.next('}') {
		for {
			s.ws()
			key, ok := s.str()
			if !ok || !s.next(':') || !plainKey(key) {
				return false
			}
			s.ws()
			if strings.EqualFold(string(key[1:len(key)-1]), "stages") {
				// As encoding/json: the last of duplicate keys wins.
				found, stages = true, stagesJSON{}
				if !s.literal("null") {
					if stages.s, stages.naive, ok = s.stages(1); !ok {
						return false
					}
				}
			} else {
				v := s.i
				if !s.skip() {
					return false
				}
				if len(rest) > 1 {
					rest = append(rest, ',')
				}
				rest = append(rest, key...)
				rest = append(rest, ':')
				rest = append(rest, b[v:s.i]...)
			}
			if s.next('}') {
				break
			}
			if !s.next(',') {
				return false
			}
		}
	}
	s.ws()
	if s.i != len(b) {
		return false
	}
	rest = append(rest, '}')
	var j runJSON
	if json.Unmarshal(rest, &j) != nil {
		return false
	}
	if found {
		j.Stages = stages
	}
	var out Run
	if out.set(&j) != nil {
		return false
	}
	*r = out
	return true
}

// plainKey reports whether the quoted key raw is printable ASCII without
// an escape: a key that encoding/json matches to a field by ASCII case
// folding alone.
func plainKey(raw []byte) bool {
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}
