package runfile_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// stageJSON is a stage record as a run file holds it.
func stageJSON(name string, attempt int, stages string) string {
	s := fmt.Sprintf(`{"start_time": "2025-05-05T23:14:10.235518+00:00", "duration_sec": 1, "data": null, "error": null, "name": %q, "attempt": %d`, name, attempt)
	if stages != "" {
		s += `, "stages": ` + stages
	}
	return s + "}"
}

// runJSON is a run file of schema_version version (none when 0) with the
// given stages object.
func runJSON(version int, stages string) string {
	v := ""
	if version != 0 {
		v = fmt.Sprintf(`, "schema_version": %d`, version)
	}
	return `{"run_id": "0c9d8e7f-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "start_time": "2025-05-05T23:14:10.235518+00:00", "stages": ` + stages + v + `}`
}

// keyList renders the keys and attempts of s, depth first: "k/1 p[c/1]".
func keyList(s runfile.Stages) string {
	var out []string
	for _, st := range s {
		k := fmt.Sprintf("%s/%d", st.Key, st.Attempt)
		if len(st.Stages) > 0 {
			k += "[" + keyList(st.Stages) + "]"
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

// TestVersion1Rekeyed: a file of schema_version 1 reads with the keys a
// version-2 file of the same records has; other versions, and the Python
// tool's files (no schema_version), keep their keys.
func TestVersion1Rekeyed(t *testing.T) {
	retried := `{"flaky": ` + stageJSON("flaky", 1, "") + `, "flaky#2": ` + stageJSON("flaky", 2, "") + `}`
	cases := []struct {
		name    string
		version int
		stages  string
		want    string
	}{
		{"version 1, retried once", 1, retried, "flaky#1/1 flaky/2"},
		{"version 1, three attempts among others", 1, `{"a": ` + stageJSON("a", 1, "") + `, "x": ` + stageJSON("x", 1, "") +
			`, "x#2": ` + stageJSON("x", 2, "") + `, "x#3": ` + stageJSON("x", 3, "") + `, "b": ` + stageJSON("b", 1, "") + `}`,
			"a/1 x#1/1 x#2/2 x/3 b/1"},
		{"version 1, nested", 1, `{"release": ` + stageJSON("release", 1, retried) + `}`, "release/1[flaky#1/1 flaky/2]"},
		{"version 1, literal names like keys", 1, `{"parse": ` + stageJSON("parse", 1, "") + `, "parse#2": ` + stageJSON("parse#2", 1, "") +
			`, "parse#3": ` + stageJSON("parse", 2, "") + `, "merge": ` + stageJSON("merge", 1, "") + `, "merge#2": ` + stageJSON("merge", 2, "") +
			`, "merge#2#2": ` + stageJSON("merge#2", 1, "") + `}`,
			"parse#1/1 parse#2/1 parse/2 merge#1/1 merge/2 merge#2/1"},
		{"version 1, names used once", 1, `{"a": ` + stageJSON("a", 1, "") + `, "b": ` + stageJSON("b", 1, "") + `}`, "a/1 b/1"},
		{"version 2 as written", 2, `{"flaky#1": ` + stageJSON("flaky", 1, "") + `, "flaky": ` + stageJSON("flaky", 2, "") + `}`, "flaky#1/1 flaky/2"},
		{"version 3 as written", 3, retried, "flaky/1 flaky#2/2"},
		{"the Python tool's file as written", 0, `{"a": {"start_time": "2025-05-05T23:14:10", "duration_sec": 1, "data": null, "error": null}, "a#2": {"start_time": "2025-05-05T23:14:11", "duration_sec": 1, "data": null, "error": null}}`,
			"a/1 a#2/1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := runJSON(c.version, c.stages)
			var r runfile.Run
			if err := json.Unmarshal([]byte(doc), &r); err != nil {
				t.Fatal(err)
			}
			if got := keyList(r.Stages); got != c.want {
				t.Errorf("keys %s; want %s", got, c.want)
			}
			if r.SchemaVersion != c.version {
				t.Errorf("SchemaVersion %d; want %d, what the file says", r.SchemaVersion, c.version)
			}
			// Every way of reading runs re-keys alike: an array and JSON Lines.
			for _, b := range []string{"[" + doc + "]", doc + "\n" + doc + "\n"} {
				runs, err := runfile.DecodeRuns([]byte(b), "runs.json")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range runs {
					if got := keyList(r.Stages); got != c.want {
						t.Errorf("DecodeRuns %.1s…: keys %s; want %s", b, got, c.want)
					}
				}
			}
		})
	}
}

// TestVersion1ReadWritesVersion2Keys: a version-1 run read and written
// again holds the version-2 keys, in start order, and reading it again
// changes nothing (re-keying is idempotent).
func TestVersion1ReadWritesVersion2Keys(t *testing.T) {
	doc := runJSON(1, `{"flaky": `+stageJSON("flaky", 1, "")+`, "flaky#2": `+stageJSON("flaky", 2, "")+`}`)
	var r runfile.Run
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var again runfile.Run
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, st := range again.Stages {
		keys = append(keys, st.Key)
	}
	if !slices.Equal(keys, []string{"flaky#1", "flaky"}) {
		t.Errorf("keys %q after a round trip; want [flaky#1 flaky]", keys)
	}
}
