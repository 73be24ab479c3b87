package tracker

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Redacted replaces the values of redacted keys.
const Redacted = "[REDACTED]"

// DefaultRedactKeys returns a list of keys that commonly hold secrets, for
// WithRedactKeys(DefaultRedactKeys()...). Redaction is off unless asked for.
func DefaultRedactKeys() []string {
	return []string{
		"password", "passwd", "secret", "token", "access_token", "refresh_token",
		"api_key", "apikey", "authorization", "auth", "cookie", "private_key",
		"access_key", "secret_key", "client_secret", "credentials",
	}
}

// redactor replaces the values of the keys it names, at any depth of a JSON
// object, before they reach a span or a file. Keys match case-insensitively.
type redactor map[string]bool

func newRedactor(keys []string) redactor {
	if len(keys) == 0 {
		return nil
	}
	r := make(redactor, len(keys))
	for _, k := range keys {
		r[strings.ToLower(k)] = true
	}
	return r
}

// apply returns v with the named keys' values replaced. v goes through its
// JSON form, so that structs and maps of any type are redacted alike; a v
// that cannot be encoded is returned as is, for the caller to report.
func (r redactor) apply(v any) any {
	if r == nil || v == nil {
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return v
	}
	return r.walk(generic)
}

func (r redactor) walk(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if r[strings.ToLower(k)] {
				v[k] = Redacted
			} else {
				v[k] = r.walk(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = r.walk(x)
		}
	}
	return v
}
