// Package e2e holds stage-tracker's end-to-end tests: a run recorded through
// setup.Tracker with OTEL_TRACES_EXPORTER naming OTLP is read back from a
// real Jaeger and compared with the run file written in the same run.
//
// The tests need the build tag e2e and a Jaeger v2 reachable over OTLP;
// scripts/jaeger-e2e.sh builds one, starts it on free 127.0.0.1 ports, runs
// the tests and stops it:
//
//	bash scripts/jaeger-e2e.sh
//
// Against a Jaeger you already run, set where it listens (these are the
// defaults) and run the tests yourself:
//
//	STAGE_TRACKER_E2E_JAEGER_QUERY=http://127.0.0.1:16686 \
//	STAGE_TRACKER_E2E_OTLP_HTTP=http://127.0.0.1:4318 \
//	STAGE_TRACKER_E2E_OTLP_GRPC=http://127.0.0.1:4317 \
//	go test -race -tags e2e -count=1 ./e2e/...
//
// Without the tag the package is empty, so go test ./... stays fast and
// needs no Jaeger.
package e2e
