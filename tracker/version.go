package tracker

import "github.com/stage-tracker/stage-tracker/internal/keys"

// ScopeName is the instrumentation scope name of every span the tracker
// makes: the import path of this package.
const ScopeName = keys.ScopeName

// Version is the version of stage-tracker, following semantic versioning.
const Version = "0.1.0"
