package flatjson_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
)

func TestFlatten(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"nested", `{"seed":3,"opt":{"lr":0.1,"name":"adam"}}`, `seed=3 opt.lr=0.1 opt.name="adam"`},
		{"white space", " { \"a\" : [1, 2] ,\n \"b\" : { } , \"c\":null } ", `a=[1, 2] b={ } c=null`},
		{"escaped key", `{"a\u002eb\"":true}`, `a.b"=true`},
		{"not an object", `[1,2]`, `=[1,2]`},
		{"scalar", `"x"`, `="x"`},
		{"null", `null`, ``},
		{"empty", ``, ``},
		{"strings with brackets", `{"s":"}{][","t":{"u":"\"}"}}`, `s="}{][" t.u="\"}"`},
		{"torn", `{"a":1,"b":{"c":`, `a=1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range flatjson.Flatten([]byte(tc.in)) {
				got = append(got, f.Key+"="+string(f.Value))
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("Flatten(%s) = %s, want %s", tc.in, s, tc.want)
			}
		})
	}
}

func TestNumberAndText(t *testing.T) {
	for _, tc := range []struct {
		in, num, text string
	}{
		{`0.91`, "0.91", "0.91"},
		{`-3e2`, "-300", "-3e2"},
		{`"12"`, "no", "12"},
		{`"a\nb"`, "no", "a\nb"},
		{`true`, "no", "true"},
		{`-Inf`, "no", "-Inf"},
		{`NaN`, "no", "NaN"},
	} {
		n, ok := flatjson.Number([]byte(tc.in))
		got := "no"
		if ok {
			got = fmt.Sprint(n)
		}
		if got != tc.num || flatjson.Text([]byte(tc.in)) != tc.text {
			t.Errorf("%s: Number %s, Text %q; want %s, %q", tc.in, got, flatjson.Text([]byte(tc.in)), tc.num, tc.text)
		}
	}
}

// TestScan checks what Scan adds to Walk: each leaf's top-level key (a
// key's own dots are not a path), whether the value is an object, and
// whether it is whole.
func TestScan(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		isObject, ok   bool
	}{
		{"nested", `{"seed":3,"opt":{"lr":0.1,"m":{"b":1}}}`, `seed(seed)=3 opt.lr(opt)=0.1 opt.m.b(opt)=1`, true, true},
		{"dotted key", `{"a.b":{"c":1}}`, `a.b.c(a.b)=1`, true, true},
		{"empty object inside", `{"a":{ }}`, `a(a)={ }`, true, true},
		{"null", ` null `, ``, true, true},
		{"empty", ``, ``, true, true},
		{"empty object", `{}`, ``, true, true},
		{"list", `[1,{"a":2}]`, `()=[1,{"a":2}]`, false, true},
		{"torn", `{"a":1,"b":{"c":`, `a(a)=1`, true, false},
		{"after the end", `{"a":1}}`, `a(a)=1`, true, false},
		{"no colon", `{"a" 1}`, ``, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			isObject, ok := flatjson.Scan([]byte(tc.in), func(key, top string, v []byte) {
				got = append(got, key+"("+top+")="+string(v))
			})
			if s := strings.Join(got, " "); s != tc.want || isObject != tc.isObject || ok != tc.ok {
				t.Errorf("Scan(%s) = %s, object %v, ok %v; want %s, %v, %v", tc.in, s, isObject, ok, tc.want, tc.isObject, tc.ok)
			}
		})
	}
}
