// Package e2e holds the Collector end-to-end tests (build tag e2e, run by
// scripts/collector-e2e.sh) and their test pipeline, ./pipeline: one
// Collector killed mid-run, the mixed pipeline, and the two-tier deployment
// (collector/fronttier in front of several backends) under
// stagetrack-loadgen's load with faults.
package e2e
