// Package schemajson holds the run file's JSON Schema, embedded once for
// runfile.Schema and the deprecated runfile.Schema().
package schemajson

import _ "embed" // for JSON

// JSON is the schema's text. It must not be modified.
//
//go:embed schema.json
var JSON []byte
