// Package e2e holds the Collector end-to-end test (build tag e2e, run by
// scripts/collector-e2e.sh) and its test pipeline, ./pipeline.
package e2e
