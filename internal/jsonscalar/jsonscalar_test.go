package jsonscalar_test

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
)

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\`, "<a&b>", "\b\f\n\r\t\x00\x1f\x7f", "\xff\xfe", "é\u2028\u2029", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonscalar.AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
		if n := jsonscalar.StringLen(s); n != len(want) {
			t.Errorf("StringLen(%q) = %d, want %d", s, n, len(want))
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.25, 1e-7, 1e-6, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonscalar.AppendFloat(nil, x); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json writes %s", x, got, want)
		}
		if n := jsonscalar.FloatLen(x); n != len(want) {
			t.Errorf("FloatLen(%v) = %d, want %d", x, n, len(want))
		}
	})
}

func FuzzInt(f *testing.F) {
	for _, n := range []int64{0, 9, 10, -1, -10, math.MaxInt64, math.MinInt64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if got, want := jsonscalar.IntLen(n), len(strconv.FormatInt(n, 10)); got != want {
			t.Errorf("IntLen(%d) = %d, want %d", n, got, want)
		}
	})
}
