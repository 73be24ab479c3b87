package provenance

import (
	"path"
	"strings"
)

// Redacted replaces the value of a secret environment variable, as
// tracker.Redacted replaces a redacted data value.
const Redacted = "[REDACTED]"

// secretWords are parts of names that commonly hold secrets: the keys of
// tracker.DefaultRedactKeys, which the tracker passes on through
// Config.Secret; this list makes redaction fail closed without it.
var secretWords = [...]string{
	"password", "passwd", "secret", "token", "auth", "cookie", "private_key",
	"access_key", "secret_key", "credential", "api_key", "apikey",
}

// SecretName reports whether an environment variable's name says that it
// holds a secret (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD), as the
// stagetrack command's stderr redaction judges names.
func SecretName(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Env returns the variables of environ whose names match one of patterns
// (globs, as path.Match reads them: CUDA_*, OMP_NUM_THREADS), never any
// other; a value whose name is a secret (SecretName, or secret when not
// nil) is Redacted. nil when none match.
func Env(environ, patterns []string, secret func(string) bool) map[string]string {
	var out map[string]string
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" || !matchAny(patterns, name) {
			continue
		}
		if SecretName(name) || (secret != nil && secret(name)) {
			value = Redacted
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[name] = value
	}
	return out
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == name {
			return true
		}
		if ok, err := path.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

// Patterns splits STAGE_TRACKER_ENV's value, names and globs separated by
// commas or white space, into patterns.
func Patterns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// EnvVar names the variable that holds the allow-list of environment
// variables to record.
const EnvVar = "STAGE_TRACKER_ENV"
