package tracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Redacted replaces the values of redacted keys.
const Redacted = "[REDACTED]"

// ErrNotRedactable is reported, with WithRedactKeys, for a value that could
// not be inspected for secrets: it cannot be encoded as JSON, or is nested
// too deep. Such a value is dropped, never recorded: a stage's data becomes
// null with the reason in its data_error; the run's args become null, and
// Run.Err and Run.Finalize report it.
var ErrNotRedactable = errors.New("tracker: value cannot be redacted; dropped")

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
// JSON form, so that structs and maps of any type are redacted alike.
//
// Redaction fails closed: a v that cannot be redacted (it cannot be encoded,
// or is nested deeper than the JSON decoder goes) is never passed on. apply
// returns nil and an error wrapping ErrNotRedactable that says why without
// quoting the value.
func (r redactor) apply(v any) (any, error) {
	if r == nil || v == nil {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: not encodable as JSON", ErrNotRedactable)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("%w: nested too deep to inspect (%d bytes encoded)", ErrNotRedactable, len(b))
	}
	return r.walk(generic), nil
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
