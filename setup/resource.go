package setup

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// VersionKey is the resource attribute that carries the version of
// stage-tracker that recorded the spans (tracker.Version). In Jaeger it is a
// process tag of every span.
const VersionKey = attribute.Key("stage_tracker.version")

// newResource builds the resource every span of the provider carries, from
// lowest to highest precedence:
//
//  1. service.name = the program name (the base name of os.Args[0]), and
//     stage_tracker.version = tracker.Version;
//  2. WithServiceName, then WithResourceAttributes;
//  3. telemetry.sdk.name, .language and .version, from the SDK;
//  4. OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, so that whoever runs
//     the program has the last word.
func newResource(ctx context.Context, cfg config, getenv func(string) string) (*resource.Resource, error) {
	if err := checkResourceAttributes(getenv(envResourceAttributes)); err != nil {
		return nil, err
	}
	name := cfg.serviceName
	if name == "" {
		name = programName()
	}
	attrs := make([]attribute.KeyValue, 0, 2+len(cfg.resourceAttrs))
	attrs = append(attrs, semconv.ServiceName(name), VersionKey.String(tracker.Version))
	attrs = append(attrs, cfg.resourceAttrs...)
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		// Which host and process ran a stage: a run that spans hosts says
		// who ran what. Not the command line, which may hold secrets.
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithProcessRuntimeDescription(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("setup: resource: %w", err)
	}
	return res, nil
}

// programName is the default service.name: the program's file name without
// directory or .exe suffix.
func programName() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "unknown_service"
	}
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
}

// checkResourceAttributes validates OTEL_RESOURCE_ATTRIBUTES as the SDK will
// read it (comma-separated key=value pairs, values percent-encoded), so that
// a malformed value is an error naming the variable rather than a resource
// quietly missing attributes.
func checkResourceAttributes(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for i, pair := range strings.Split(v, ",") {
		bad := func(reason string) error {
			return &EnvError{Var: envResourceAttributes, Value: v, Reason: fmt.Sprintf("entry %d %q %s; want key=value pairs separated by commas", i+1, pair, reason)}
		}
		k, val, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return bad("has no '='")
		case strings.TrimSpace(k) == "":
			return bad("has an empty key")
		}
		if _, err := url.PathUnescape(strings.TrimSpace(val)); err != nil {
			return bad("has a value that is not percent-encoded correctly")
		}
	}
	return nil
}
