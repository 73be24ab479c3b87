package stagekey_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/stagekey"
)

// keys keys one level whose records are named names, in start order, and
// returns "key/attempt" for each.
func keys(names []string) []string {
	var l stagekey.Level
	for _, n := range names {
		l.Count(n)
	}
	out := make([]string, len(names))
	for i, n := range names {
		k, a := l.Next(n)
		out[i] = k + "/" + strconv.Itoa(a)
	}
	return out
}

func TestLevel(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"empty", nil, []string{}},
		{"distinct names", []string{"a", "b", "c"}, []string{"a/1", "b/1", "c/1"}},
		{"retried once", []string{"flaky"}, []string{"flaky/1"}},
		{"failed then passed", []string{"flaky", "flaky"}, []string{"flaky#1/1", "flaky/2"}},
		{"three attempts among others", []string{"a", "x", "b", "x", "x", "c"}, []string{"a/1", "x#1/1", "b/1", "x#2/2", "x/3", "c/1"}},
		{"literal x#1 before two x", []string{"x#1", "x", "x"}, []string{"x#1/1", "x#2/1", "x/2"}},
		{"literal x#1 after two x", []string{"x", "x", "x#1"}, []string{"x#2/1", "x/2", "x#1/1"}},
		{"literal x#2 beside three x", []string{"x", "x", "x", "x#2"}, []string{"x#1/1", "x#3/2", "x/3", "x#2/1"}},
		{"literal x#1 and x#2 beside three x", []string{"x#2", "x", "x#1", "x", "x"}, []string{"x#2/1", "x#3/1", "x#1/1", "x#4/2", "x/3"}},
		{"a name with # repeated", []string{"a#1", "a#1"}, []string{"a#1#1/1", "a#1/2"}},
		{"empty name repeated", []string{"", ""}, []string{"#1/1", "/2"}},
		{"a name that is only #", []string{"#", "#", "#1"}, []string{"##1/1", "#/2", "#1/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys(tt.names)
			if !slices.Equal(got, tt.want) {
				t.Errorf("keys of %q = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

// TestLevelUnique: whatever the names, a level's keys are distinct and
// each name's last record has the plain name.
func TestLevelUnique(t *testing.T) {
	alphabet := []string{"x", "x#1", "x#2", "x#1#1", "#", "#1", "", "y"}
	// Every sequence of up to 5 names from the alphabet.
	var seq []int
	var try func()
	try = func() {
		names := make([]string, len(seq))
		for i, j := range seq {
			names[i] = alphabet[j]
		}
		got := keys(names)
		seen := map[string]bool{}
		last := map[string]int{}
		for i, n := range names {
			last[n] = i
		}
		for i, kv := range got {
			k := kv[:strings.LastIndexByte(kv, '/')]
			if seen[k] {
				t.Fatalf("keys of %q = %q: %q twice", names, got, k)
			}
			seen[k] = true
			if (last[names[i]] == i) != (k == names[i]) {
				t.Fatalf("keys of %q = %q: record %d keyed %q", names, got, i, k)
			}
		}
		if len(seq) == 5 {
			return
		}
		for j := range alphabet {
			seq = append(seq, j)
			try()
			seq = seq[:len(seq)-1]
		}
	}
	try()
}
