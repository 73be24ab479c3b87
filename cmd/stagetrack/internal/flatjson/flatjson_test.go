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
